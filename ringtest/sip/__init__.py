"""The SIP test caller: one pjsua2 user agent (`endpoint`), the pure measurement of a
call's wire timeline (`timeline`), and placing one ring test (`caller`)."""
