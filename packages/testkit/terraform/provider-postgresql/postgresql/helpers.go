package postgresql

import (
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/lib/pq"
)

type queryer interface {
	QueryRow(query string, args ...interface{}) *sql.Row
}

func roleExists(q queryer, role string) (bool, error) {
	if strings.EqualFold(role, "public") {
		return true, nil
	}
	return rowExists(q, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", role)
}

func dbExists(q queryer, name string) (bool, error) {
	return rowExists(q, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", name)
}

func schemaExists(q queryer, name string) (bool, error) {
	return rowExists(q, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", name)
}

// rowExists runs a query for "SELECT 1 ... WHERE x = $1" and says whether it found a row.
func rowExists(q queryer, query, arg string) (bool, error) {
	var x int
	err := q.QueryRow(query, arg).Scan(&x)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, err
}

// roleIdent quotes a role name; "public" is the PUBLIC keyword, as in the real provider.
func roleIdent(role string) string {
	if strings.EqualFold(role, "public") {
		return "PUBLIC"
	}
	return pq.QuoteIdentifier(role)
}

func setToStrings(v interface{}) []string {
	out := []string{}
	if set, ok := v.(*schema.Set); ok {
		for _, x := range set.List() {
			out = append(out, x.(string))
		}
	}
	sort.Strings(out)
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[strings.ToUpper(x)]++
	}
	for _, x := range b {
		m[strings.ToUpper(x)]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// replacePrivileges revokes everything, then grants the resource's privileges (with the grant
// option when asked), in the caller's transaction: reducing privileges works, access never lapses.
func replacePrivileges(tx *sql.Tx, d *schema.ResourceData, revoke string, grant func(privileges string) string, what string) error {
	if _, err := tx.Exec(revoke); err != nil {
		return fmt.Errorf("could not revoke %s: %w", what, err)
	}
	privileges := setToStrings(d.Get("privileges"))
	if len(privileges) == 0 {
		return nil
	}
	stmt := grant(strings.Join(privileges, ","))
	if d.Get("with_grant_option").(bool) {
		stmt += " WITH GRANT OPTION"
	}
	if _, err := tx.Exec(stmt); err != nil {
		return fmt.Errorf("could not grant %s: %w", what, err)
	}
	return nil
}
