# Notices, rendered in the recipient's language (tutela_core::notify). Plain text: they go
# out by e-mail too. They name accounts, record ids, times and addresses; never a customer's
# field values and never a secret.

notice-footer = — Tutela, the customer security system. Your inbox: { $inbox }

notice-sign-in-new-device-subject = New sign-in to your Tutela account
notice-sign-in-new-device-body =
    Your account { $account } was just signed in to from a device or network it had not used before.

    Time (UTC): { $time }
    Address: { $address }
    Browser: { $browser }
    Proved with: { $method ->
        [passkey] a passkey
        [sso] single sign-on, with the identity provider's second factor
        [recovery-code] a recovery code
       *[totp] an authenticator code
    }

    If this was you, there is nothing to do.
    If it was not you: open your account page ({ $link }), end every session there, change your password, and tell your security team at once.

notice-break-glass-request-subject = Break-glass access { $status ->
        [active] granted to { $requester }
       *[pending] requested by { $requester }
    }
notice-break-glass-request-body =
    { $requester } used break-glass access to customer record { $record }.

    State: { $status ->
        [active] granted at once for { $minutes } minutes (the policy asks for no approval)
       *[pending] waiting for an approver; { $minutes } minutes asked
    }
    Time (UTC): { $time }
    Justification: { $justification_length } characters; read it on the break-glass page.

    Review it now: { $link }
    You receive this because you approve access requests or read the audit log.

notice-break-glass-decision-subject = Your break-glass request was { $status ->
        [active] granted
       *[denied] denied
    }
notice-break-glass-decision-body =
    Your break-glass request for customer record { $record } was { $status ->
        [active] granted by { $approver }; the access ends at { $until } (UTC).
       *[denied] denied by { $approver }.
    }

    The request: { $link }

notice-access-review-reminder-subject = Access review "{ $campaign }": { $open } decision(s) waiting for you
notice-access-review-reminder-body =
    The access review "{ $campaign }" asks you to certify or revoke { $open } role(s) or share(s).

    Deadline (UTC): { $deadline }
    What nobody decides by then is handled as the campaign says (revoked or flagged).

    Your reviews: { $link }

notice-test-subject = Tutela test message
notice-test-body =
    This is a test message from Tutela, sent at { $time } (UTC) to check the e-mail settings.
    Nothing needs to be done.
