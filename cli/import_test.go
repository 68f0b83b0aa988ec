package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestCustomersImport(t *testing.T) {
	shopsysHash := func(password string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return "$2y$" + string(h[4:]) // PHP's password_hash spelling
	}
	hashA, hashB := shopsysHash("shopsys password a"), shopsysHash("shopsys password b")
	// withCost spells a hash at another cost (not one that verifies: an import never checks it).
	withCost := func(hash, cost string) string { return hash[:4] + cost + hash[6:] }
	const shopsysUUID = "3f1c9a6e-5b2d-4e8f-a1c7-9d0e2b4f6a81"

	tests := []struct {
		name      string
		csv       string
		wantCode  int
		wantOut   []string // in stdout (0) or stderr (1)
		wantNot   []string // in neither
		wantCount int      // customers in the database afterwards (one exists before)
	}{
		{
			name: "bcrypt hashes, any column order, uuid kept, quoting, BOM",
			csv: "\uFEFFuuid,passwordHash,email,lastName,firstName,telephone\n" +
				shopsysUUID + "," + hashA + ",Anna@Shop.cz,\"Svobodová, ml.\",Anna,+420 605 000 001\n" +
				"," + hashB + ",bert@shop.cz,Dvořák,Bert,\n",
			wantCode: 0, wantOut: []string{"imported 2 customers"}, wantCount: 3,
		},
		{
			name:     "plain passwords",
			csv:      "email,firstName,lastName,telephone,password\ncyril@shop.cz,Cyril,Černý,,correct horse\ndana@shop.cz,Dana,Malá,123,battery staple\n",
			wantCode: 0, wantOut: []string{"imported 2 customers"}, wantCount: 3,
		},
		{
			name:     "one row: one customer, singular",
			csv:      "email,firstName,lastName,password\neva@shop.cz,Eva,Malá,correct horse\n",
			wantCode: 0, wantOut: []string{"imported 1 customer\n"}, wantCount: 2,
		},
		{name: "header only", csv: "email,firstName,lastName,password\n", wantCode: 0, wantOut: []string{"imported 0 customers"}, wantCount: 1},
		{
			name: "every bad row named, nothing imported",
			csv: "email,firstName,lastName,telephone,password\n" +
				"ok@shop.cz,Ok,Fine,,correct horse\n" + // line 2: fine, but must not be imported
				"not-an-email,X,Y,,correct horse\n" + // line 3
				"ok@shop.cz,Dup,Licate,,correct horse\n" + // line 4: duplicate within the file
				"existing@shop.cz,In,Db,,correct horse\n" + // line 5: duplicate with the database
				"\"multi\nline@shop.cz\",,Y,,short\n" + // lines 6-7
				"z@shop.cz,Z," + strings.Repeat("x", 101) + ",,correct horse\n", // line 8
			wantCode: 1,
			wantOut: []string{
				"nothing imported",
				"line 3: email: Please enter valid email",
				"line 4: email ok@shop.cz is already registered (by line 2)",
				"line 5: email existing@shop.cz is already registered",
				"line 6: email: Please enter valid email; firstName: Please enter first name; password: Password must be at least 8 characters long",
				"line 8: lastName: Last name cannot be longer than 100 characters",
			},
			wantCount: 1,
		},
		{
			name:     "a hash that is not one",
			csv:      "email,firstName,lastName,passwordHash\na@shop.cz,A,B," + hashA + "\nb@shop.cz,A,B,md5:abc\nc@shop.cz,A,B,\n",
			wantCode: 1, wantOut: []string{"line 3: passwordHash: not a bcrypt", "line 4: passwordHash: not a bcrypt"}, wantCount: 1,
		},
		{
			name: "a bcrypt cost above 14, named by its line",
			csv: "email,firstName,lastName,passwordHash\n" +
				"a@shop.cz,A,B," + withCost(hashA, "14") + "\n" + // line 2: the highest cost accepted
				"b@shop.cz,A,B," + withCost(hashA, "18") + "\n" + // line 3
				"c@shop.cz,A,B," + withCost(hashB, "31") + "\n", // line 4
			wantCode: 1,
			wantOut: []string{
				"nothing imported",
				"line 3: passwordHash: bcrypt cost 18 is above the limit of 14",
				"line 4: passwordHash: bcrypt cost 31 is above the limit of 14",
			},
			wantNot:   []string{"line 2"},
			wantCount: 1,
		},
		{
			name:     "a uuid taken in the database",
			csv:      "email,firstName,lastName,password,uuid\nnew@shop.cz,A,B,correct horse,EXISTING\n",
			wantCode: 1, wantOut: []string{"line 2: uuid ", "is already in use"}, wantCount: 1,
		},
		{name: "both password columns", csv: "email,firstName,lastName,password,passwordHash\n", wantCode: 1,
			wantOut: []string{"line 1: the header must name exactly one of passwordHash and password"}, wantCount: 1},
		{name: "no password column", csv: "email,firstName,lastName\n", wantCode: 1, wantOut: []string{"line 1: the header must name exactly one"}, wantCount: 1},
		{name: "missing column", csv: "email,firstName,password\n", wantCode: 1, wantOut: []string{"line 1: the header lacks the column lastName"}, wantCount: 1},
		{name: "unknown column", csv: "email,firstName,lastName,password,street\n", wantCode: 1, wantOut: []string{`line 1: unknown column "street"`}, wantCount: 1},
		{name: "empty file", csv: "", wantCode: 1, wantOut: []string{"line 1: the file is empty"}, wantCount: 1},
		{name: "short row", csv: "email,firstName,lastName,password\na@shop.cz,A,B,correct horse\nb@shop.cz,B\n", wantCode: 1,
			wantOut: []string{"line 3: wrong number of fields"}, wantCount: 1},
		{name: "bad quoting", csv: "email,firstName,lastName,password\na@shop.cz,A,B,correct horse\nb@shop.cz,\"B,C,d\n", wantCode: 1,
			wantOut: []string{"line 3"}, wantCount: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "shop.db")
			code, _, stderr := runArgs(t, "correct horse\n", "customers", "add", "--db", dbPath,
				"--email", "existing@shop.cz", "--first-name", "Ex", "--last-name", "Isting")
			if code != 0 {
				t.Fatal(stderr)
			}
			d, _ := openTestService(t, dbPath)
			existing, err := d.CustomerByEmail(context.Background(), "existing@shop.cz")
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "customers.csv")
			os.WriteFile(file, []byte(strings.ReplaceAll(tt.csv, "EXISTING", existing.UUID)), 0o600)

			code, stdout, stderr := runArgs(t, "", "customers", "import", file, "--db", dbPath) // flags after the file too
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.wantCode, stdout, stderr)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(stdout+stderr, want) {
					t.Errorf("output lacks %q:\n%s%s", want, stdout, stderr)
				}
			}
			for _, not := range tt.wantNot {
				if strings.Contains(stdout+stderr, not) {
					t.Errorf("output has %q:\n%s%s", not, stdout, stderr)
				}
			}
			list, err := d.Customers(context.Background(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if n := len(list); n != tt.wantCount {
				t.Errorf("%d customers in the database afterwards, want %d (all or nothing)", n, tt.wantCount)
			}
		})
	}

	t.Run("imported customers log in; bcrypt is upgraded", func(t *testing.T) {
		dir := t.TempDir()
		dbPath, file := filepath.Join(dir, "shop.db"), filepath.Join(dir, "c.csv")
		os.WriteFile(file, []byte("email,firstName,lastName,telephone,passwordHash,uuid\nanna@shop.cz,Anna,Svobodová,,"+hashA+","+strings.ToUpper(shopsysUUID)+"\n"), 0o600)
		if code, _, stderr := runArgs(t, "", "customers", "import", "--db", dbPath, file); code != 0 {
			t.Fatal(stderr)
		}
		d, svc := openTestService(t, dbPath)
		ctx := context.Background()
		c, err := d.CustomerByEmail(ctx, "anna@shop.cz")
		if err != nil {
			t.Fatal(err)
		}
		if c.UUID != shopsysUUID || c.PasswordHash != hashA || c.Telephone != nil {
			t.Errorf("stored %+v, want the Shopsys UUID (lower-cased) and hash kept as they were", c)
		}
		if _, err := svc.Login(ctx, "anna@shop.cz", "shopsys password a"); err != nil {
			t.Fatalf("login with the Shopsys password: %v", err)
		}
		if c, _ = d.CustomerByEmail(ctx, "anna@shop.cz"); !strings.HasPrefix(c.PasswordHash, "$argon2id$") {
			t.Errorf("hash after the first login = %.10s…, want it upgraded to argon2id", c.PasswordHash)
		}
	})
}
