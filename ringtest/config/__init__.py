"""Settings: one TOML file, `RINGTEST_*` environment variables, CLI overrides.

Precedence, later wins: defaults < the TOML file (``--config`` or
RINGTEST_CONFIG) < ``RINGTEST_*`` environment variables < overrides from CLI
flags. Everything is validated once, by the pydantic models in `models`, with
unknown keys rejected; any problem is one `ConfigError` line naming the file or
variable, the setting and the fix. README.md's "Configuration reference" lists
every setting.
"""

from ringtest.config.loading import load_settings
from ringtest.config.models import (
    AmiSettings,
    CalendarSettings,
    Line,
    PhoneSettings,
    Settings,
    SipAccount,
    SipSettings,
    StandardsSettings,
    StoreSettings,
)

__all__ = [
    "AmiSettings",
    "CalendarSettings",
    "Line",
    "PhoneSettings",
    "Settings",
    "SipAccount",
    "SipSettings",
    "StandardsSettings",
    "StoreSettings",
    "load_settings",
]
