"""Who called whom, read from inbound INVITE texts like the lab PBX and carriers send."""

from ringtest.sip.invite import InviteParties, invite_parties

LAB_INVITE = (
    "INVITE sip:ringtester@127.0.0.1:42194 SIP/2.0\r\n"
    'From: "Council Callbacks" <sip:+441382434099@127.0.0.1>;tag=abc\r\n'
    "To: <sip:ringtester@127.0.0.1:42194>\r\n"
    "Call-ID: 7a8c\r\n\r\nv=0\r\n"
)
CARRIER_INVITE = (
    "INVITE sip:01382000150@10.0.0.1 SIP/2.0\n"
    "f: <sip:anonymous@carrier.example>;tag=1\n"
    "t: <sip:01382000150@carrier.example>\n"
    "P-Asserted-Identity: <tel:+441382434099>\n\n"
)


def test_a_pbx_ringing_a_registered_account_gives_the_account_user_and_the_from_number():
    assert invite_parties(LAB_INVITE, "GB") == InviteParties(
        dialled="ringtester", caller="+441382434099", caller_name="Council Callbacks"
    )


def test_a_carrier_did_and_asserted_identity_win_and_are_read_as_e164():
    assert invite_parties(CARRIER_INVITE, "GB") == InviteParties(
        dialled="+441382000150", caller="+441382434099", caller_name=""
    )
