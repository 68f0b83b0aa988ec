package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Authenticator is a software passkey authenticator and the browser around it: from the options
// a server sends ({"publicKey": {...}} JSON) it makes what JSON.stringify(credential.toJSON())
// gives, with real ECDSA P-256 keys, "none" attestation and CBOR/COSE encoded by the library
// go-webauthn itself uses (never by hand), so the server's verification runs unchanged.
//
// Its fields let a test play a phishing page or a broken authenticator. It is safe for
// concurrent use.
type Authenticator struct {
	// Origin is what the "browser" puts into clientDataJSON, e.g. http://localhost:8000.
	Origin string
	// RPID, when set, is hashed into the authenticator data instead of the options' RP ID.
	RPID string
	// IDLength is the length of the credential ids Create makes (default 32; WebAuthn allows up to
	// 1023 bytes, and a hostile client may send more).
	IDLength int
	// ClientDataPadding adds a member of that many bytes to every clientDataJSON (WebAuthn lets a
	// browser add members), as a client inflating what the server might store would.
	ClientDataPadding int

	mu    sync.Mutex
	creds []*softCredential
}

type softCredential struct {
	id, userHandle []byte
	rpID           string
	key            *ecdsa.PrivateKey
	count          uint32
}

// Credential ids and counters, for tests that look behind the authenticator.
func (a *Authenticator) CredentialIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, c := range a.creds {
		out = append(out, b64(c.id))
	}
	return out
}

// SetSignCount sets the counter of every credential (the next assertion sends n+1), as a cloned
// authenticator whose counter lags behind would.
func (a *Authenticator) SetSignCount(n uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.creds {
		c.count = n
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

type descriptor struct {
	ID string `json:"id"`
}

// Create answers creation options as navigator.credentials.create would.
func (a *Authenticator) Create(optionsJSON string) (string, error) {
	var o struct {
		PublicKey struct {
			RP        struct{ ID string }
			User      struct{ ID string }
			Challenge string
			Exclude   []descriptor `json:"excludeCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(optionsJSON), &o); err != nil {
		return "", err
	}
	pk := o.PublicKey
	handle, err := unb64(pk.User.ID)
	if err != nil || pk.RP.ID == "" || pk.Challenge == "" {
		return "", fmt.Errorf("authenticator: bad creation options %s", optionsJSON)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.creds {
		for _, x := range pk.Exclude {
			if x.ID == b64(c.id) && c.rpID == pk.RP.ID {
				return "", errors.New("InvalidStateError: the authenticator already holds an excluded credential")
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	idLength := a.IDLength
	if idLength == 0 {
		idLength = 32
	}
	c := &softCredential{id: make([]byte, idLength), userHandle: handle, rpID: pk.RP.ID, key: key}
	rand.Read(c.id)
	pub, err := key.PublicKey.ECDH()
	if err != nil {
		return "", err
	}
	raw := pub.Bytes() // 0x04 | X | Y
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         int64(webauthncose.P256), XCoord: raw[1:33], YCoord: raw[33:65],
	})
	if err != nil {
		return "", err
	}
	// Authenticator data (WebAuthn §6.1) is a fixed binary layout, not CBOR: RP ID hash, flags
	// (UP, UV, AT), counter, then the attested credential data with the COSE key.
	authData := a.authDataPrefix(pk.RP.ID, 0x01|0x04|0x40, 0)
	authData = append(authData, make([]byte, 16)...) // AAGUID: none
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(c.id)))
	authData = append(authData, c.id...)
	authData = append(authData, cose...)
	attestation, err := webauthncbor.Marshal(struct {
		Fmt      string         `cbor:"fmt"`
		AttStmt  map[string]any `cbor:"attStmt"`
		AuthData []byte         `cbor:"authData"`
	}{"none", map[string]any{}, authData})
	if err != nil {
		return "", err
	}
	a.creds = append(a.creds, c)
	return credentialJSON(c.id, map[string]any{
		"clientDataJSON":    b64(a.clientData("webauthn.create", pk.Challenge)),
		"attestationObject": b64(attestation),
		"transports":        []string{"internal"},
	})
}

// Get answers request options as navigator.credentials.get would: with the first credential for
// the RP ID that the allow list (if any) names.
func (a *Authenticator) Get(optionsJSON string) (string, error) {
	var o struct {
		PublicKey struct {
			RPID      string       `json:"rpId"`
			Challenge string       `json:"challenge"`
			Allow     []descriptor `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(optionsJSON), &o); err != nil {
		return "", err
	}
	pk := o.PublicKey
	a.mu.Lock()
	defer a.mu.Unlock()
	var c *softCredential
	for _, x := range a.creds {
		if x.rpID != pk.RPID {
			continue
		}
		allowed := len(pk.Allow) == 0
		for _, d := range pk.Allow {
			allowed = allowed || d.ID == b64(x.id)
		}
		if allowed {
			c = x
			break
		}
	}
	if c == nil {
		return "", errors.New("NotAllowedError: no credential for this RP ID")
	}
	c.count++
	authData := a.authDataPrefix(pk.RPID, 0x01|0x04, c.count)
	clientData := a.clientData("webauthn.get", pk.Challenge)
	digest := sha256.Sum256(clientData)
	signed := sha256.Sum256(append(append([]byte{}, authData...), digest[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, signed[:])
	if err != nil {
		return "", err
	}
	return credentialJSON(c.id, map[string]any{
		"clientDataJSON":    b64(clientData),
		"authenticatorData": b64(authData),
		"signature":         b64(sig),
		"userHandle":        b64(c.userHandle),
	})
}

func (a *Authenticator) authDataPrefix(rpID string, flags byte, count uint32) []byte {
	if a.RPID != "" {
		rpID = a.RPID
	}
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, count)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	m := map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false}
	if a.ClientDataPadding > 0 {
		m["padding"] = strings.Repeat("x", a.ClientDataPadding)
	}
	b, _ := json.Marshal(m)
	return b
}

func credentialJSON(id []byte, response map[string]any) (string, error) {
	b, err := json.Marshal(map[string]any{
		"id": b64(id), "rawId": b64(id), "type": "public-key", "authenticatorAttachment": "platform",
		"clientExtensionResults": map[string]any{}, "response": response,
	})
	return string(b), err
}
