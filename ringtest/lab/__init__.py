"""The lab: a real Asterisk 22 council PBX in a Debian sid chroot, with sipp staff agents.

`lab_up`, `lab_down` and `lab_status` (in `ringtest.lab.pbx`) are what the CLI,
the tests and ``make test`` call; `ringtest.lab.accounts` holds the lab's
addresses, accounts and departments as data.
"""
