package auth

// Hooks for the external tests (package auth_test), which forge tokens with the ring's own keys.

// SignerForTest returns the key that signs new access tokens, private part included.
func (s *Service) SignerForTest() SigningKey { return s.keys.signerAt(s.Now()).SigningKey }

// RefreshKeyForTest returns the key that signs new refresh tokens, secret included.
func (s *Service) RefreshKeyForTest() SigningKey { return s.keys.refreshSignerAt(s.Now()).SigningKey }
