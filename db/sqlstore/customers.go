package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"shopauth/auth"
)

const customerColumns = `c.id, c.uuid, c.email, c.first_name, c.last_name, c.telephone, c.password_hash, c.created_at, c.security_changed_at, c.last_login_at, c.email_verified`

func scanCustomer[R scanRow](row R, extra ...any) (auth.Customer, error) {
	var c auth.Customer
	var created, changed, lastLogin int64
	dest := append([]any{&c.ID, &c.UUID, &c.Email, &c.FirstName, &c.LastName, &c.Telephone, &c.PasswordHash, &created, &changed, &lastLogin, &c.EmailVerified}, extra...)
	if err := row.Scan(dest...); err != nil {
		return auth.Customer{}, notFound(err)
	}
	c.CreatedAt, c.SecurityChangedAt, c.LastLoginAt = fromMS(created), fromMS(changed), fromMS(lastLogin)
	return c, nil
}

// tokenColumns are what an access token carries of a customer, the answer of RotateSession.
const tokenColumns = `c.id, c.uuid, c.email, c.first_name, c.last_name`

func scanTokenCustomer[R scanRow](row R) (auth.Customer, error) {
	var c auth.Customer
	if err := row.Scan(&c.ID, &c.UUID, &c.Email, &c.FirstName, &c.LastName); err != nil {
		return auth.Customer{}, notFound(err)
	}
	return c, nil
}

const (
	queryCustomerByEmail = `SELECT ` + customerColumns + ` FROM customers c WHERE c.email = ?`
	queryCustomerByUUID  = `SELECT ` + customerColumns + ` FROM customers c WHERE c.uuid = ?`
	queryCustomerByID    = `SELECT ` + customerColumns + ` FROM customers c WHERE c.id = ?`
)

// CustomerByEmail finds a customer by (normalised) email.
func (s *Store) CustomerByEmail(ctx context.Context, email string) (auth.Customer, error) {
	return scanCustomer(s.readRow(ctx, queryCustomerByEmail, email))
}

// CustomerByUUID finds a customer by UUID.
func (s *Store) CustomerByUUID(ctx context.Context, uuid string) (auth.Customer, error) {
	return scanCustomer(s.readRow(ctx, queryCustomerByUUID, uuid))
}

func (t *Tx) CustomerByEmail(email string) (auth.Customer, error) {
	return scanCustomer(t.queryRow(queryCustomerByEmail, email))
}

func (t *Tx) CustomerByID(id int64) (auth.Customer, error) {
	return scanCustomer(t.queryRow(queryCustomerByID, id))
}

const queryCreateCustomer = `INSERT INTO customers
		(uuid, email, first_name, last_name, telephone, password_hash, created_at, security_changed_at, email_verified)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

func (t *Tx) CreateCustomer(c *auth.Customer) error {
	err := t.queryRow(queryCreateCustomer, c.UUID, c.Email, c.FirstName, c.LastName, c.Telephone, c.PasswordHash,
		ms(c.CreatedAt), ms(c.SecurityChangedAt), c.EmailVerified).Scan(&c.ID)
	if what, ok := t.unique(err); ok {
		// The violated constraint tells which column: SQLite's message names customers.uuid,
		// PostgreSQL's constraint is customers_uuid_key (its default name for the UNIQUE of
		// 0001_init.sql). PostgreSQL has aborted the transaction, so it could not be asked.
		if strings.Contains(what, "uuid") {
			return auth.ErrUUIDTaken
		}
		return auth.ErrEmailTaken
	}
	return err
}

func (t *Tx) UpdateCustomer(c auth.Customer) error {
	_, err := t.exec(`UPDATE customers SET email = ?, first_name = ?, last_name = ?, telephone = ?,
		password_hash = ?, security_changed_at = ?, email_verified = ? WHERE id = ?`,
		c.Email, c.FirstName, c.LastName, c.Telephone, c.PasswordHash, ms(c.SecurityChangedAt), c.EmailVerified, c.ID)
	if _, ok := t.unique(err); ok {
		return auth.ErrEmailTaken
	}
	return err
}

const queryRecordLogin = `UPDATE customers SET last_login_at = ? WHERE id = ?`

func (t *Tx) RecordLogin(customerID int64, at time.Time) error {
	_, err := t.exec(queryRecordLogin, ms(at), customerID)
	return err
}

// DeleteCustomer erases the customer and everything that is theirs. The foreign keys would
// cascade; the deletes are spelled out so that the store says what it erases and nothing depends
// on SQLite's foreign-key pragma being on.
func (t *Tx) DeleteCustomer(id int64) error {
	return t.execEach(id,
		`DELETE FROM sessions WHERE customer_id = ?`,
		`DELETE FROM recoveries WHERE customer_id = ?`,
		`DELETE FROM passkeys WHERE customer_id = ?`,
		`DELETE FROM passkey_challenges WHERE customer_id = ?`,
		`DELETE FROM social_identities WHERE customer_id = ?`,
		`DELETE FROM social_flows WHERE link_customer_id = ?`,
		`DELETE FROM social_handoffs WHERE customer_id = ?`,
		`DELETE FROM email_verifications WHERE customer_id = ?`,
		`DELETE FROM customers WHERE id = ?`)
}

// BcryptCosts reads the two cost digits of $2y$13$… hashes.
func (s *Store) BcryptCosts(ctx context.Context) ([]int, error) {
	var out []int
	err := s.readRows(ctx, func(scan func(...any) error) error {
		var digits string
		if err := scan(&digits); err != nil {
			return err
		}
		if n, err := strconv.Atoi(digits); err == nil {
			out = append(out, n)
		}
		return nil
	}, `SELECT DISTINCT substr(password_hash, 5, 2) FROM customers WHERE password_hash LIKE '$2_$%'`)
	return out, err
}

// summaryColumns are a CustomerSummary's, with the sessions alive at the first argument counted.
const summaryColumns = `c.uuid, c.email, c.first_name, c.last_name, c.telephone, c.created_at, c.last_login_at,
		(SELECT count(*) FROM sessions s WHERE s.customer_id = c.id AND s.expires_at > ?)`

func scanSummary(scan func(...any) error) (auth.CustomerSummary, error) {
	var c auth.CustomerSummary
	var created, lastLogin int64
	if err := scan(&c.UUID, &c.Email, &c.FirstName, &c.LastName, &c.Telephone, &created, &lastLogin, &c.Sessions); err != nil {
		return c, err
	}
	c.CreatedAt, c.LastLoginAt = fromMS(created), fromMS(lastLogin)
	return c, nil
}

// Customers lists every customer, oldest first, with their live sessions counted. Never the hash.
func (s *Store) Customers(ctx context.Context, now time.Time) ([]auth.CustomerSummary, error) {
	var out []auth.CustomerSummary
	err := s.readRows(ctx, func(scan func(...any) error) error {
		c, err := scanSummary(scan)
		if err == nil {
			out = append(out, c)
		}
		return err
	}, `SELECT `+summaryColumns+` FROM customers c ORDER BY c.id`, ms(now))
	return out, err
}

// customerSearchWhere matches the search text (given lower-cased, in its first four arguments)
// or the UUID (the fifth); every customer when the text is empty. contains( is the dialect's
// substring function; SQLite's lower() folds ASCII letters only.
const customerSearchWhere = `(? = '' OR contains(lower(c.email), ?) > 0 OR contains(lower(c.first_name), ?) > 0
		OR contains(lower(c.last_name), ?) > 0 OR c.uuid = ?)`

// SearchCustomers answers one page of the customers matching q, oldest first, and how many match.
func (s *Store) SearchCustomers(ctx context.Context, q auth.CustomerSearch, now time.Time) ([]auth.CustomerSummary, int, error) {
	text := auth.FoldSearch(q.Text)
	match := []any{text, text, text, text, q.Text}
	var total int
	if err := s.readRow(ctx, `SELECT count(*) FROM customers c WHERE `+s.search, match...).Scan(&total); err != nil {
		return nil, 0, err
	}
	out := []auth.CustomerSummary{}
	args := append(append([]any{ms(now)}, match...), q.Limit, q.Offset)
	err := s.readRows(ctx, func(scan func(...any) error) error {
		c, err := scanSummary(scan)
		if err == nil {
			out = append(out, c)
		}
		return err
	}, `SELECT `+summaryColumns+` FROM customers c WHERE `+s.search+` ORDER BY c.id LIMIT ? OFFSET ?`, args...)
	return out, total, err
}
