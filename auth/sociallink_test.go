package auth

import "testing"

// TestDecideLink is the linking rules of the contract's §7 as a table: every rule, by the
// provider's word on the email × who has the address × whether the identity is linked, and the
// link flow.
func TestDecideLink(t *testing.T) {
	verified := &Customer{ID: 1, Email: "jan@shop.cz", EmailVerified: true, PasswordHash: "$argon2id$x"}
	unverified := &Customer{ID: 2, Email: "eva@shop.cz", PasswordHash: "$argon2id$attacker"}
	other := &Customer{ID: 3, Email: "ota@shop.cz", EmailVerified: true}
	vouchedFor := func(email string) Identity {
		return Identity{Type: LoginTypeGoogle, Subject: "s", Email: email, EmailVerified: true}
	}
	unvouched := func(email string) Identity { return Identity{Type: LoginTypeFacebook, Subject: "s", Email: email} }
	tests := []struct {
		name string
		st   linkState
		id   Identity
		want linkDecision
	}{
		// Rule 1: a linked identity logs in its customer, whatever the email says now.
		{"linked, same email", linkState{Linked: verified, Owner: verified}, vouchedFor("jan@shop.cz"),
			linkDecision{Outcome: outcomeLogin, Customer: verified, Email: "jan@shop.cz"}},
		{"linked, the provider now reports another customer's email", linkState{Linked: verified, Owner: unverified},
			vouchedFor("eva@shop.cz"), linkDecision{Outcome: outcomeLogin, Customer: verified, Email: "eva@shop.cz"}},
		{"linked, no email now", linkState{Linked: verified}, unvouched(""),
			linkDecision{Outcome: outcomeLogin, Customer: verified}},
		{"linked to an unverified customer, unvouched", linkState{Linked: unverified, Owner: unverified}, unvouched("eva@shop.cz"),
			linkDecision{Outcome: outcomeLogin, Customer: unverified, Email: "eva@shop.cz"}},

		// Rule 3: the provider vouches for the email.
		{"vouched, nobody has it: a new verified customer", linkState{}, vouchedFor("New@Shop.cz "),
			linkDecision{Outcome: outcomeRegister, Email: "new@shop.cz", Verified: true}},
		{"vouched, its customer is verified: linked", linkState{Owner: verified}, vouchedFor("jan@shop.cz"),
			linkDecision{Outcome: outcomeLink, Customer: verified, Email: "jan@shop.cz"}},
		{"vouched, its customer is unverified: linked, verified, pre-hijacking clean-up", linkState{Owner: unverified},
			vouchedFor("eva@shop.cz"), linkDecision{Outcome: outcomeLink, Customer: unverified, Email: "eva@shop.cz", Verified: true, CleanUp: true}},
		{"vouched, its verified customer has another identity of this type", linkState{Owner: verified, OwnerHasType: true},
			vouchedFor("jan@shop.cz"), linkDecision{Outcome: outcomeRefuse, Reason: ReasonEmailExists, Email: "jan@shop.cz"}},
		{"vouched, its unverified customer has another identity of this type (a pre-hijacker's own): clean-up",
			linkState{Owner: unverified, OwnerHasType: true}, vouchedFor("eva@shop.cz"),
			linkDecision{Outcome: outcomeLink, Customer: unverified, Email: "eva@shop.cz", Verified: true, CleanUp: true}},

		// Rule 4: the provider does not vouch for it.
		{"unvouched, nobody has it: a new unverified customer", linkState{}, unvouched("new@shop.cz"),
			linkDecision{Outcome: outcomeRegister, Email: "new@shop.cz"}},
		{"unvouched, a verified customer has it: email-exists", linkState{Owner: verified}, unvouched("jan@shop.cz"),
			linkDecision{Outcome: outcomeRefuse, Reason: ReasonEmailExists, Email: "jan@shop.cz"}},
		{"unvouched, an unverified customer has it: email-exists", linkState{Owner: unverified}, unvouched("eva@shop.cz"),
			linkDecision{Outcome: outcomeRefuse, Reason: ReasonEmailExists, Email: "eva@shop.cz"}},
		{"email_verified false at an OpenID Connect provider is unvouched",
			linkState{Owner: unverified}, Identity{Type: LoginTypeOIDC, Subject: "s", Email: "eva@shop.cz"},
			linkDecision{Outcome: outcomeRefuse, Reason: ReasonEmailExists, Email: "eva@shop.cz"}},
		{"no email: email-missing", linkState{}, vouchedFor(""), linkDecision{Outcome: outcomeRefuse, Reason: ReasonEmailMissing}},
		{"not an address: email-missing, even vouched for", linkState{}, vouchedFor("jan at shop"),
			linkDecision{Outcome: outcomeRefuse, Reason: ReasonEmailMissing}},

		// Rule 2: the link flow, started from SocialLinkUrl by a logged-in customer.
		{"link: unlinked identity links to the caller, whatever its email", linkState{Linking: verified, Owner: other},
			vouchedFor("ota@shop.cz"), linkDecision{Outcome: outcomeLink, Customer: verified, Email: "ota@shop.cz"}},
		{"link: no email needed", linkState{Linking: verified}, unvouched(""),
			linkDecision{Outcome: outcomeLink, Customer: verified}},
		{"link: the caller's own unproven address vouched for verifies it, with the pre-hijacking clean-up", linkState{Linking: unverified, Owner: unverified},
			vouchedFor("eva@shop.cz"), linkDecision{Outcome: outcomeLink, Customer: unverified, Email: "eva@shop.cz", Verified: true, CleanUp: true}},
		{"link: unvouched own address does not verify it", linkState{Linking: unverified, Owner: unverified},
			unvouched("eva@shop.cz"), linkDecision{Outcome: outcomeLink, Customer: unverified, Email: "eva@shop.cz"}},
		{"link: linked to someone else: identity-linked-elsewhere", linkState{Linking: verified, Linked: other},
			vouchedFor("ota@shop.cz"), linkDecision{Outcome: outcomeRefuse, Reason: ReasonIdentityLinkedElsewhere, Email: "ota@shop.cz"}},
		{"link: linked to the caller already", linkState{Linking: verified, Linked: verified}, vouchedFor("jan@shop.cz"),
			linkDecision{Outcome: outcomeLogin, Customer: verified, Email: "jan@shop.cz"}},
		{"link: the caller has another identity of this type", linkState{Linking: verified, LinkingHasType: true},
			vouchedFor("jan@shop.cz"), linkDecision{Outcome: outcomeRefuse, Reason: ReasonIdentityLinkedElsewhere, Email: "jan@shop.cz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decideLink(tt.st, tt.id); got != tt.want {
				t.Errorf("decideLink = %+v\n                 want %+v", got, tt.want)
			}
		})
	}
}
