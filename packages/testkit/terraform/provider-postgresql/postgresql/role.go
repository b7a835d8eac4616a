package postgresql

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
	"github.com/lib/pq"
)

var roleBoolAttrs = []struct{ attr, on, off string }{
	{"superuser", "SUPERUSER", "NOSUPERUSER"},
	{"create_database", "CREATEDB", "NOCREATEDB"},
	{"create_role", "CREATEROLE", "NOCREATEROLE"},
	{"inherit", "INHERIT", "NOINHERIT"},
	{"login", "LOGIN", "NOLOGIN"},
	{"replication", "REPLICATION", "NOREPLICATION"},
	{"bypass_row_level_security", "BYPASSRLS", "NOBYPASSRLS"},
}

func resourceRole() *schema.Resource {
	return &schema.Resource{
		CreateContext: locked(roleCreate),
		ReadContext:   readLocked(roleReadImpl),
		UpdateContext: locked(roleUpdate),
		DeleteContext: locked(roleDelete),
		Importer:      &schema.ResourceImporter{StateContext: schema.ImportStatePassthroughContext},
		Schema: map[string]*schema.Schema{
			"name":                      {Type: schema.TypeString, Required: true, Description: "The name of the role"},
			"password":                  {Type: schema.TypeString, Optional: true, Sensitive: true, Description: "Sets the role's password"},
			"roles":                     {Type: schema.TypeSet, Optional: true, Elem: &schema.Schema{Type: schema.TypeString}, Set: schema.HashString},
			"encrypted_password":        {Type: schema.TypeBool, Optional: true, Default: true},
			"valid_until":               {Type: schema.TypeString, Optional: true, Default: "infinity"},
			"connection_limit":          {Type: schema.TypeInt, Optional: true, Default: -1, ValidateFunc: validation.IntAtLeast(-1)},
			"superuser":                 {Type: schema.TypeBool, Optional: true, Default: false},
			"create_database":           {Type: schema.TypeBool, Optional: true, Default: false},
			"create_role":               {Type: schema.TypeBool, Optional: true, Default: false},
			"inherit":                   {Type: schema.TypeBool, Optional: true, Default: true},
			"login":                     {Type: schema.TypeBool, Optional: true, Default: false},
			"replication":               {Type: schema.TypeBool, Optional: true, Default: false},
			"bypass_row_level_security": {Type: schema.TypeBool, Optional: true, Default: false},
			"skip_drop_role":            {Type: schema.TypeBool, Optional: true, Default: false},
			"skip_reassign_owned":       {Type: schema.TypeBool, Optional: true, Default: false},
		},
	}
}

func roleOptions(d *schema.ResourceData, creating bool) []string {
	opts := []string{}
	for _, b := range roleBoolAttrs {
		if creating || d.HasChange(b.attr) {
			if d.Get(b.attr).(bool) {
				opts = append(opts, b.on)
			} else {
				opts = append(opts, b.off)
			}
		}
	}
	if creating || d.HasChange("connection_limit") {
		opts = append(opts, fmt.Sprintf("CONNECTION LIMIT %d", d.Get("connection_limit").(int)))
	}
	if creating || d.HasChange("valid_until") {
		v := d.Get("valid_until").(string)
		if v == "" {
			v = "infinity"
		}
		opts = append(opts, "VALID UNTIL "+pq.QuoteLiteral(v))
	}
	if pw := d.Get("password").(string); (creating && pw != "") || (!creating && d.HasChange("password")) {
		switch {
		case pw == "" || strings.EqualFold(pw, "NULL"):
			opts = append(opts, "PASSWORD NULL")
		case d.Get("encrypted_password").(bool):
			opts = append(opts, "ENCRYPTED PASSWORD "+pq.QuoteLiteral(pw))
		default:
			opts = append(opts, "PASSWORD "+pq.QuoteLiteral(pw))
		}
	}
	return opts
}

func roleCreate(c *Client, d *schema.ResourceData) diag.Diagnostics {
	name := d.Get("name").(string)
	err := c.inTx("", func(tx *sql.Tx) error {
		if _, err := tx.Exec(fmt.Sprintf("CREATE ROLE %s WITH %s", pq.QuoteIdentifier(name), strings.Join(roleOptions(d, true), " "))); err != nil {
			return fmt.Errorf("error creating role %s: %w", name, err)
		}
		for _, r := range setToStrings(d.Get("roles")) {
			if _, err := tx.Exec(fmt.Sprintf("GRANT %s TO %s", pq.QuoteIdentifier(r), pq.QuoteIdentifier(name))); err != nil {
				return fmt.Errorf("could not grant role %s to %s: %w", r, name, err)
			}
		}
		return nil
	})
	if err != nil {
		return diag.FromErr(err)
	}
	d.SetId(name)
	return roleReadImpl(c, d)
}

func roleReadImpl(c *Client, d *schema.ResourceData) diag.Diagnostics {
	db, err := c.DB("")
	if err != nil {
		return diag.FromErr(err)
	}
	var name, validUntil string
	var super, inherit, createRole, createDB, login, replication, bypass bool
	var connLimit int
	var roles pq.StringArray
	err = db.QueryRow(`SELECT ARRAY(SELECT pg_get_userbyid(roleid) FROM pg_catalog.pg_auth_members m WHERE m.member = r.oid),
		rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit,
		COALESCE(rolvaliduntil::TEXT, 'infinity') FROM pg_catalog.pg_roles r WHERE rolname = $1`, d.Id()).
		Scan(&roles, &name, &super, &inherit, &createRole, &createDB, &login, &replication, &bypass, &connLimit, &validUntil)
	if err == sql.ErrNoRows {
		d.SetId("")
		return nil
	}
	if err != nil {
		return diag.FromErr(fmt.Errorf("Error reading ROLE: %w", err))
	}
	d.Set("name", name)
	d.Set("superuser", super)
	d.Set("inherit", inherit)
	d.Set("create_role", createRole)
	d.Set("create_database", createDB)
	d.Set("login", login)
	d.Set("replication", replication)
	d.Set("bypass_row_level_security", bypass)
	d.Set("connection_limit", connLimit)
	d.Set("valid_until", validUntil)
	d.Set("encrypted_password", true)
	d.Set("skip_drop_role", d.Get("skip_drop_role").(bool))
	d.Set("skip_reassign_owned", d.Get("skip_reassign_owned").(bool))
	d.Set("roles", []string(roles))
	password, err := readRolePassword(c, d, login)
	if err != nil {
		return diag.FromErr(err)
	}
	d.Set("password", password)
	d.SetId(name)
	return nil
}

// readRolePassword follows the real provider: a superuser connection reads the stored hash, and
// keeps the configured password in state only while it still matches that hash.
func readRolePassword(c *Client, d *schema.ResourceData, login bool) (string, error) {
	statePassword := d.Get("password").(string)
	if !login || !c.superuser {
		return statePassword, nil
	}
	db, err := c.DB("")
	if err != nil {
		return "", err
	}
	var stored string
	if err := db.QueryRow("SELECT COALESCE(rolpassword, '') FROM pg_catalog.pg_authid WHERE rolname = $1", d.Id()).Scan(&stored); err != nil {
		return "", fmt.Errorf("could not read role password from Postgres as connected user %s is not a SUPERUSER: %w", c.user, err)
	}
	if statePassword != "" && !strings.HasPrefix(statePassword, "md5") && !strings.HasPrefix(statePassword, "SCRAM-SHA-256") {
		if strings.HasPrefix(stored, "md5") {
			sum := md5.Sum([]byte(statePassword + d.Id()))
			if "md5"+hex.EncodeToString(sum[:]) == stored {
				return statePassword, nil
			}
		} else if scramMatches(stored, statePassword) {
			return statePassword, nil
		}
	}
	return stored, nil
}

func scramMatches(verifier, password string) bool {
	// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
	parts := strings.Split(verifier, "$")
	if len(parts) != 3 || parts[0] != "SCRAM-SHA-256" {
		return false
	}
	iterSalt := strings.SplitN(parts[1], ":", 2)
	keys := strings.SplitN(parts[2], ":", 2)
	if len(iterSalt) != 2 || len(keys) != 2 {
		return false
	}
	iterations, err := strconv.Atoi(iterSalt[0])
	salt, err2 := base64.StdEncoding.DecodeString(iterSalt[1])
	if err != nil || err2 != nil {
		return false
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, salted)
	mac.Write([]byte("Client Key"))
	stored := sha256.Sum256(mac.Sum(nil))
	return base64.StdEncoding.EncodeToString(stored[:]) == keys[0]
}

func roleUpdate(c *Client, d *schema.ResourceData) diag.Diagnostics {
	err := c.inTx("", func(tx *sql.Tx) error {
		if d.HasChange("name") {
			o, n := d.GetChange("name")
			if _, err := tx.Exec(fmt.Sprintf("ALTER ROLE %s RENAME TO %s", pq.QuoteIdentifier(o.(string)), pq.QuoteIdentifier(n.(string)))); err != nil {
				return fmt.Errorf("Error updating role NAME: %w", err)
			}
			d.SetId(n.(string))
		}
		name := d.Get("name").(string)
		if opts := roleOptions(d, false); len(opts) > 0 {
			if _, err := tx.Exec(fmt.Sprintf("ALTER ROLE %s WITH %s", pq.QuoteIdentifier(name), strings.Join(opts, " "))); err != nil {
				return fmt.Errorf("could not update role %s: %w", name, err)
			}
		}
		if d.HasChange("roles") {
			o, n := d.GetChange("roles")
			for _, r := range setToStrings(o.(*schema.Set).Difference(n.(*schema.Set))) {
				if _, err := tx.Exec(fmt.Sprintf("REVOKE %s FROM %s", pq.QuoteIdentifier(r), pq.QuoteIdentifier(name))); err != nil {
					return err
				}
			}
			for _, r := range setToStrings(n.(*schema.Set).Difference(o.(*schema.Set))) {
				if _, err := tx.Exec(fmt.Sprintf("GRANT %s TO %s", pq.QuoteIdentifier(r), pq.QuoteIdentifier(name))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return diag.FromErr(err)
	}
	return roleReadImpl(c, d)
}

func roleDelete(c *Client, d *schema.ResourceData) diag.Diagnostics {
	name := d.Get("name").(string)
	return diagErr(c.inTx("", func(tx *sql.Tx) error {
		if !d.Get("skip_reassign_owned").(bool) {
			if _, err := tx.Exec(fmt.Sprintf("REASSIGN OWNED BY %s TO CURRENT_USER", pq.QuoteIdentifier(name))); err != nil {
				return fmt.Errorf("could not reassign owned by role %s to %s: %w", name, c.user, err)
			}
			if _, err := tx.Exec(fmt.Sprintf("DROP OWNED BY %s", pq.QuoteIdentifier(name))); err != nil {
				return fmt.Errorf("could not drop owned by role %s: %w", name, err)
			}
		}
		if !d.Get("skip_drop_role").(bool) {
			if _, err := tx.Exec(fmt.Sprintf("DROP ROLE %s", pq.QuoteIdentifier(name))); err != nil {
				return fmt.Errorf("could not delete role %s: %w", name, err)
			}
		}
		return nil
	}))
}
