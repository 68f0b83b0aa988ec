package auth

// AuditReason says what an audit event records. Every event the service writes starts with one of
// the reasons below, some followed by their subject (Of): the audit log's readers (`shopauth
// audit`, the console's auditLog and its event filter) and docs/api.md quote these texts.
type AuditReason string

// Of is the reason about subject, as the event records it: "social identity linked: google".
func (r AuditReason) Of(subject string) AuditReason { return r + ": " + AuditReason(subject) }

// The customer's own changes to their security, and reuse detection.
const (
	// AuditRefreshReused: a used refresh token came back after its grace; the session was ended.
	AuditRefreshReused AuditReason = "refresh token reused"
	// AuditCustomerPassword: ChangePassword.
	AuditCustomerPassword AuditReason = "password changed by the customer"
	// AuditCustomerRevoke: RevokeSessions, followed by the scope: " (OTHERS)" or " (ALL)".
	AuditCustomerRevoke AuditReason = "sessions revoked by the customer"
	// AuditRecovery: RecoverPassword with a mailed hash.
	AuditRecovery AuditReason = "password reset with a recovery mail"
	// AuditEmailVerified: VerifyEmail with a mailed hash.
	AuditEmailVerified AuditReason = "email address verified"
	// AuditRecoveryCleanUp: a recovery proved an address that was unproven, so the passkeys and
	// social identities added before it go, as in the pre-hijacking clean-up.
	AuditRecoveryCleanUp AuditReason = "passkeys and social identities added before the address was proven removed by a password recovery"
)

// Passkeys.
const (
	// AuditPasskeyAdded: AddPasskey.
	AuditPasskeyAdded AuditReason = "passkey added by the customer"
	// AuditPasskeyRemoved: RemovePasskey.
	AuditPasskeyRemoved AuditReason = "passkey removed by the customer"
	// AuditPasskeyClone: a passkey login refused as a likely clone, Of "stored N, presented M".
	AuditPasskeyClone AuditReason = "passkey refused: its sign count did not go up (a cloned authenticator?)"
)

// Social login, each Of the provider's type.
const (
	// AuditSocialLinked: a social identity added to an existing customer.
	AuditSocialLinked AuditReason = "social identity linked"
	// AuditSocialUnlinked: RemoveSocialIdentity.
	AuditSocialUnlinked AuditReason = "social identity unlinked"
	// AuditSocialRegistered: a customer registered by a social login.
	AuditSocialRegistered AuditReason = "registered with a social identity"
	// AuditPreHijackCleanUp: a provider vouched for an address the customer never proved, so
	// whatever someone else may have set up on it is removed before the link.
	AuditPreHijackCleanUp AuditReason = "account pre-hijacking clean-up: password, passkeys and earlier social identities removed, every session ended, " +
		"as the address was never proven and the provider vouches for it"
)

// What the operator did from the command line or the console (the console names the operator on
// the event).
const (
	// AuditOperatorPassword: customers set-password.
	AuditOperatorPassword AuditReason = "password set by the operator"
	// AuditOperatorRevoke: customers revoke, or the console's EndSessions.
	AuditOperatorRevoke AuditReason = "sessions revoked by the operator"
	// AuditOperatorDelete: customers delete, or the console's DeleteCustomer.
	AuditOperatorDelete AuditReason = "customer deleted by the operator"
	// AuditImpersonation: the console's LoginAsCustomer handed the operator a login as the customer.
	AuditImpersonation AuditReason = "login as the customer issued to the operator"
	// AuditConsoleSessionEnded: the console's EndSession.
	AuditConsoleSessionEnded AuditReason = "session ended by the operator"
	// AuditConsoleRecovery: the console's SendRecoveryMail.
	AuditConsoleRecovery AuditReason = "recovery mail sent by the operator"
	// AuditConsoleKeysRotated: the console's RotateKeys, Of the new key's kid.
	AuditConsoleKeysRotated AuditReason = "keys rotated by the operator"
	// AuditConsoleKeysNow: the console's RotateKeys(now: true), Of the new key's kid.
	AuditConsoleKeysNow AuditReason = "keys rotated by the operator, signing at once"
	// AuditConsoleTestMail: the console's SendTestMail, followed by " to ADDRESS: sent" or ": failed".
	AuditConsoleTestMail AuditReason = "test mail sent by the operator"
)

// The console's operators, each Of the operator's name (no customer: the event names the operator).
const (
	// AuditConsoleOperatorAdded: operators add.
	AuditConsoleOperatorAdded AuditReason = "console operator added"
	// AuditConsoleEnrolLink: operators add for an operator who exists (a link for another passkey).
	AuditConsoleEnrolLink AuditReason = "console enrolment link issued for operator"
	// AuditConsoleOperatorRemoved: operators remove.
	AuditConsoleOperatorRemoved AuditReason = "console operator removed"
	// AuditImpersonationEnded: operators remove ended a session the operator had opened as the
	// customer (the event names its device) or dropped a "log in as" code issued to them and not
	// yet used (no device); one event each, about that customer.
	AuditImpersonationEnded AuditReason = "login as the customer ended by the operator's removal"
	// AuditConsolePasskeyAdded: an operator enrolled their passkey.
	AuditConsolePasskeyAdded AuditReason = "console passkey enrolled by operator"
	// AuditConsoleLogin: an operator logged in to the console.
	AuditConsoleLogin AuditReason = "console login by operator"
)
