package testkit

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Response is a GraphQL answer as a client sees it: the HTTP status and headers, the raw body and
// its decoded data and errors.
type Response struct {
	Status int
	Header http.Header
	Raw    []byte
	Data   map[string]json.RawMessage
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
}

// TokenPair is a Login's, a Register's or a RefreshTokens' answer.
type TokenPair struct{ AccessToken, RefreshToken string }

// Post sends a GraphQL request body to url/graphql and decodes the JSON answer.
func Post(t testing.TB, url, body string, header map[string]string) Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := Response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, raw)
	}
	return r
}

// GQL sends query with its variables to url/graphql.
func GQL(t testing.TB, url, query string, vars map[string]any, header map[string]string) Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return Post(t, url, string(body), header)
}

// Bearer is the Authorization header of an access token.
func Bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// Token is the token pair the mutation field answered; anything else fails the test.
func (r Response) Token(t testing.TB, field string) TokenPair {
	t.Helper()
	var tok TokenPair
	if r.Status != 200 || len(r.Errors) > 0 || json.Unmarshal(r.Data[field], &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("%s: want a token pair, got %d %s", field, r.Status, r.Raw)
	}
	return tok
}

// WantError fails the test unless the answer is status with the first error's message and userCode.
func (r Response) WantError(t testing.TB, status int, message, userCode string) {
	t.Helper()
	if r.Status != status || len(r.Errors) == 0 || r.Errors[0].Message != message || r.Errors[0].Extensions["userCode"] != userCode {
		t.Fatalf("want %d %q/%s, got %d %s", status, message, userCode, r.Status, r.Raw)
	}
}

// RegisterMutation registers a customer with the variable $input.
const RegisterMutation = `mutation R($input: RegistrationDataInput!) { Register(input: $input) { accessToken refreshToken } }`

// Register registers a customer named Jaromír Jágr and returns their tokens.
func Register(t testing.TB, url, email, password string) TokenPair {
	t.Helper()
	return GQL(t, url, RegisterMutation, map[string]any{"input": map[string]any{
		"firstName": "Jaromír", "lastName": "Jágr", "email": email, "password": password, "telephone": "605000123"}}, nil).
		Token(t, "Register")
}

// Refresh presents a refresh token.
func Refresh(t testing.TB, url, refreshToken string) Response {
	t.Helper()
	return GQL(t, url, `mutation ($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken refreshToken } }`,
		map[string]any{"t": refreshToken}, nil)
}

// LoginMutation logs in with the variables $e and $p.
const LoginMutation = `mutation ($e: String!, $p: Password!) { Login(input: {email: $e, password: $p}) { accessToken refreshToken } }`

// Login logs in with a password.
func Login(t testing.TB, url, email, password string) Response {
	t.Helper()
	return GQL(t, url, LoginMutation, map[string]any{"e": email, "p": password}, nil)
}
