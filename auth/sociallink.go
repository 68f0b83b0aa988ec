package auth

// The linking rules (docs/social.md, the linking rules): what an identity a provider vouched for, or did not,
// means for the customers stored. decideLink is the rule, a pure function of the stored state and
// the identity, tested as a table; linkIdentity loads that state in a transaction and applies it.

// Reasons a social login fails, as the failure redirect's reason parameter names them.
const (
	ReasonCancelled               = "cancelled"
	ReasonStateInvalid            = "state-invalid"
	ReasonProviderError           = "provider-error"
	ReasonEmailMissing            = "email-missing"
	ReasonEmailExists             = "email-exists"
	ReasonIdentityLinkedElsewhere = "identity-linked-elsewhere"
)

// linkState is what the rules look at.
type linkState struct {
	// Linked is the customer the identity (type + subject) is linked to; nil when nobody.
	Linked *Customer
	// Linking is the customer who started the flow from SocialLinkUrl; nil for a login.
	Linking *Customer
	// LinkingHasType: Linking has another identity of this type (a customer has one per type).
	LinkingHasType bool
	// Owner is the customer with the email the provider reports; nil when nobody has it.
	Owner *Customer
	// OwnerHasType: Owner has another identity of this type.
	OwnerHasType bool
}

// linkOutcome is what the rules decide.
type linkOutcome int

const (
	outcomeLogin    linkOutcome = iota + 1 // log in Customer, whose identity it is already
	outcomeLink                            // link the identity to Customer, then log in
	outcomeRegister                        // a new customer with Email and the identity
	outcomeRefuse                          // Reason says why
)

type linkDecision struct {
	Outcome  linkOutcome
	Customer *Customer // outcomeLogin, outcomeLink
	Reason   string    // outcomeRefuse
	Email    string    // the provider's email, normalised; "" when it gave none usable
	// Verified: outcomeRegister makes a customer whose email is verified; outcomeLink marks
	// Customer's email verified.
	Verified bool
	// CleanUp (with outcomeLink): the account pre-hijacking clean-up. Whoever set the password
	// never proved the address the provider now vouches for, so the password and passkeys go and
	// every session ends.
	CleanUp bool
}

// decideLink applies the linking rules to an identity a provider returned.
func decideLink(st linkState, id Identity) linkDecision {
	email := normalizeEmail(id.Email)
	if !plausibleEmail(email) {
		email = "" // not an address anyone could prove: as if the provider gave none
	}
	vouched := id.EmailVerified && email != ""
	d := linkDecision{Email: email}
	refuse := func(reason string) linkDecision { d.Outcome, d.Reason = outcomeRefuse, reason; return d }

	// Rule 2: a flow started from SocialLinkUrl links to the customer who asked, by subject.
	if st.Linking != nil {
		switch {
		case st.Linked != nil && st.Linked.ID == st.Linking.ID:
			d.Outcome, d.Customer = outcomeLogin, st.Linked // linked already: nothing to do
			return d
		case st.Linked != nil, st.LinkingHasType:
			return refuse(ReasonIdentityLinkedElsewhere)
		}
		d.Outcome, d.Customer = outcomeLink, st.Linking
		// A provider vouching for the caller's own unproven address proves it for whoever holds the
		// provider account, who need not be who set the password: a pre-hijacker who registered
		// the victim's address can send the victim the link URL, whose confirmation page then shows
		// the victim's own (masked) address. So it is rule 3's clean-up: the password, passkeys,
		// other identities and sessions go, the provider account keeps the shop account.
		d.Verified = vouched && email == st.Linking.Email && !st.Linking.EmailVerified
		d.CleanUp = d.Verified
		return d
	}
	// Rule 1: a linked identity logs its customer in, whatever email the provider reports now.
	if st.Linked != nil {
		d.Outcome, d.Customer = outcomeLogin, st.Linked
		return d
	}
	if email == "" {
		return refuse(ReasonEmailMissing)
	}
	// Rules 3 and 4: nobody has the address, so a new customer, whose email is verified only when
	// the provider vouches for it.
	if st.Owner == nil {
		d.Outcome, d.Verified = outcomeRegister, vouched
		return d
	}
	// Someone has it. Without the provider's word, or when their proven account has another
	// identity of this type, it is theirs to link from the account page. An unproven account's
	// identity of this type was linked by whoever set it up without the address (a pre-hijacker's
	// own Google account): the clean-up below removes it.
	if !vouched || (st.OwnerHasType && st.Owner.EmailVerified) {
		return refuse(ReasonEmailExists)
	}
	d.Outcome, d.Customer = outcomeLink, st.Owner
	if !st.Owner.EmailVerified {
		d.Verified, d.CleanUp = true, true
	}
	return d
}
