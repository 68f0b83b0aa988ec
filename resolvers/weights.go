package resolvers

import "shopauth/auth"

// keyRingWeight is what Query.keys of the admin schema may hold: the ring keeps every key it ever
// had (nothing caps it), and fifty is years of monthly rotations of both kinds.
const keyRingWeight = 50

// ListWeights says how many items each list field of schema.graphql may hold, keyed by type and
// field, as cfg bounds them: the weighing of a document (web/cost) multiplies a list's selection
// by it. A list field added to the schema needs a weight here (TestEveryListFieldIsWeighed).
func ListWeights(cfg auth.Config) map[string]int {
	return map[string]int{
		"Query.customerSessions":            cfg.SessionsPerCustomer,
		"Query.passkeys":                    auth.MaxPasskeysPerCustomer,
		"Query.socialIdentities":            len(auth.SocialTypes), // one identity per type
		"Settings.socialNetworkLoginConfig": len(auth.SocialTypes),
	}
}

// AdminListWeights is ListWeights for admin.graphql, the console's schema, whose lists are pages
// (auth.MaxCustomerPage, auth.ConsoleAuditLimit) or a customer's bounded lists; info is what the
// console's summary shows.
func AdminListWeights(cfg auth.Config, info AdminInfo) map[string]int {
	return map[string]int{
		"Query.auditLog":                  auth.ConsoleAuditLimit,
		"Query.keys":                      keyRingWeight,
		"CustomerPage.customers":          auth.MaxCustomerPage,
		"CustomerDetail.socialIdentities": len(auth.SocialTypes),
		"CustomerDetail.sessions":         cfg.SessionsPerCustomer,
		"CustomerDetail.passkeys":         auth.MaxPasskeysPerCustomer,
		"CustomerDetail.audit":            auth.RecentAuditEvents,
		"Summary.providers":               max(1, len(info.Providers)),
		"Summary.settings":                max(1, len(info.Settings)),
	}
}
