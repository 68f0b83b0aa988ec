package auth

// Hooks for the external tests (package auth_test), which forge tokens with the ring's own key.

// SignerForTest returns the key that signs new tokens, private part included.
func (s *Service) SignerForTest() SigningKey { return s.keys.current().SigningKey }
