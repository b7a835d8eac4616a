package postgresql

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
	"github.com/lib/pq"
)

var defaclObjType = map[string]string{"table": "r", "sequence": "S", "function": "f", "type": "T", "schema": "n"}

func resourceDefaultPrivileges() *schema.Resource {
	return &schema.Resource{
		CreateContext: locked(defaultPrivilegesCreate),
		UpdateContext: locked(defaultPrivilegesCreate),
		ReadContext:   readLocked(defaultPrivilegesReadImpl),
		DeleteContext: locked(defaultPrivilegesDelete),
		Schema: map[string]*schema.Schema{
			"role":              {Type: schema.TypeString, Required: true, ForceNew: true},
			"database":          {Type: schema.TypeString, Required: true, ForceNew: true},
			"owner":             {Type: schema.TypeString, Required: true, ForceNew: true, Description: "Target role for which to alter default privileges."},
			"schema":            {Type: schema.TypeString, Optional: true, ForceNew: true},
			"object_type":       {Type: schema.TypeString, Required: true, ForceNew: true, ValidateFunc: validation.StringInSlice([]string{"table", "sequence", "function", "type", "schema"}, false)},
			"privileges":        {Type: schema.TypeSet, Required: true, Elem: &schema.Schema{Type: schema.TypeString}, Set: schema.HashString},
			"with_grant_option": {Type: schema.TypeBool, Optional: true, ForceNew: true, Default: false},
		},
	}
}

func defaultPrivilegesID(d *schema.ResourceData) string {
	s := d.Get("schema").(string)
	if s == "" {
		s = "noschema"
	}
	return strings.Join([]string{d.Get("role").(string), d.Get("database").(string), s, d.Get("owner").(string), d.Get("object_type").(string)}, "_")
}

func defaultPrivilegesClause(d *schema.ResourceData) (forRole, inSchema, on string) {
	forRole = pq.QuoteIdentifier(d.Get("owner").(string))
	if s := d.Get("schema").(string); s != "" {
		inSchema = " IN SCHEMA " + pq.QuoteIdentifier(s)
	}
	on = strings.ToUpper(d.Get("object_type").(string)) + "S"
	return
}

func defaultPrivilegesCreate(c *Client, d *schema.ResourceData) diag.Diagnostics {
	if d.Get("schema").(string) != "" && d.Get("object_type").(string) == "schema" {
		return diag.Errorf("cannot specify `schema` when `object_type` is `schema`")
	}
	if d.Get("with_grant_option").(bool) && strings.EqualFold(d.Get("role").(string), "public") {
		return diag.Errorf("with_grant_option cannot be true for role 'public'")
	}
	forRole, inSchema, on := defaultPrivilegesClause(d)
	role := roleIdent(d.Get("role").(string))
	err := c.inTx(d.Get("database").(string), func(tx *sql.Tx) error {
		return replacePrivileges(tx, d, fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s%s REVOKE ALL ON %s FROM %s", forRole, inSchema, on, role),
			func(privileges string) string {
				return fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s%s GRANT %s ON %s TO %s", forRole, inSchema, privileges, on, role)
			}, "default privileges")
	})
	if err != nil {
		return diag.FromErr(err)
	}
	d.SetId(defaultPrivilegesID(d))
	return defaultPrivilegesReadImpl(c, d)
}

func defaultPrivilegesReadImpl(c *Client, d *schema.ResourceData) diag.Diagnostics {
	root, err := c.DB("")
	if err != nil {
		return diag.FromErr(err)
	}
	for _, r := range []string{d.Get("role").(string), d.Get("owner").(string)} {
		if ok, err := roleExists(root, r); err != nil || !ok {
			d.SetId("")
			return diag.FromErr(err)
		}
	}
	if ok, err := dbExists(root, d.Get("database").(string)); err != nil || !ok {
		d.SetId("")
		return diag.FromErr(err)
	}
	db, err := c.DB(d.Get("database").(string))
	if err != nil {
		return diag.FromErr(err)
	}
	schemaName := d.Get("schema").(string)
	if schemaName != "" {
		if ok, err := schemaExists(db, schemaName); err != nil || !ok {
			d.SetId("")
			return diag.FromErr(err)
		}
	}
	namespace := `d.defaclnamespace = 0`
	if schemaName != "" {
		namespace = `d.defaclnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $4)`
	}
	query := `SELECT COALESCE(array_agg(a.privilege_type::text), '{}') FROM pg_catalog.pg_default_acl d, aclexplode(d.defaclacl) a
		WHERE d.defaclobjtype = $2 AND pg_catalog.pg_get_userbyid(d.defaclrole) = $3 AND ` + namespace + ` AND a.grantee = ` + granteeOID
	args := []interface{}{d.Get("role").(string), defaclObjType[d.Get("object_type").(string)], d.Get("owner").(string)}
	if schemaName != "" {
		args = append(args, schemaName)
	}
	var privileges pq.StringArray
	if err := db.QueryRow(query, args...).Scan(&privileges); err != nil {
		return diag.FromErr(fmt.Errorf("could not read default privileges: %w", err))
	}
	// No privileges read back means "does not exist", unless none were asked for.
	if len(privileges) == 0 && d.Get("privileges").(*schema.Set).Len() != 0 {
		d.SetId("")
		return nil
	}
	d.Set("privileges", []string(privileges))
	d.SetId(defaultPrivilegesID(d))
	return nil
}

func defaultPrivilegesDelete(c *Client, d *schema.ResourceData) diag.Diagnostics {
	root, err := c.DB("")
	if err != nil {
		return diag.FromErr(err)
	}
	for _, r := range []string{d.Get("role").(string), d.Get("owner").(string)} {
		if ok, err := roleExists(root, r); err != nil || !ok {
			return diag.FromErr(err)
		}
	}
	if ok, err := dbExists(root, d.Get("database").(string)); err != nil || !ok {
		return diag.FromErr(err)
	}
	forRole, inSchema, on := defaultPrivilegesClause(d)
	return diagErr(c.inTx(d.Get("database").(string), func(tx *sql.Tx) error {
		if s := d.Get("schema").(string); s != "" {
			if ok, err := schemaExists(tx, s); err != nil || !ok {
				return err
			}
		}
		_, err := tx.Exec(fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s%s REVOKE ALL ON %s FROM %s", forRole, inSchema, on, roleIdent(d.Get("role").(string))))
		return err
	}))
}
