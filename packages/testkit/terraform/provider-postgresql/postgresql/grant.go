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

// The object types of the real provider; the double implements database, schema, table, sequence and function.
var grantObjectTypes = []string{"database", "schema", "table", "sequence", "function", "procedure", "routine", "foreign_data_wrapper", "foreign_server", "column"}

var implementedGrantTypes = map[string]bool{"database": true, "schema": true, "table": true, "sequence": true, "function": true}

// relkinds read back for "ALL TABLES" (tables, views, materialized views, foreign and partitioned tables).
var relkinds = map[string]string{"table": "'r','v','m','f','p'", "sequence": "'S'"}

func resourceGrant() *schema.Resource {
	return &schema.Resource{
		CreateContext: locked(grantCreate),
		// As create revokes and grants, it updates too (the real provider does the same).
		UpdateContext: locked(grantCreate),
		ReadContext:   readLocked(grantReadImpl),
		DeleteContext: locked(grantDelete),
		Schema: map[string]*schema.Schema{
			"role":              {Type: schema.TypeString, Required: true, ForceNew: true, Description: "The name of the role to grant privileges on, Set it to \"public\" for all roles"},
			"database":          {Type: schema.TypeString, Required: true, ForceNew: true},
			"schema":            {Type: schema.TypeString, Optional: true, ForceNew: true},
			"object_type":       {Type: schema.TypeString, Required: true, ForceNew: true, ValidateFunc: validation.StringInSlice(grantObjectTypes, false)},
			"objects":           {Type: schema.TypeSet, Optional: true, ForceNew: true, Elem: &schema.Schema{Type: schema.TypeString}, Set: schema.HashString},
			"columns":           {Type: schema.TypeSet, Optional: true, ForceNew: true, Elem: &schema.Schema{Type: schema.TypeString}, Set: schema.HashString},
			"privileges":        {Type: schema.TypeSet, Required: true, Elem: &schema.Schema{Type: schema.TypeString}, Set: schema.HashString},
			"with_grant_option": {Type: schema.TypeBool, Optional: true, ForceNew: true, Default: false},
		},
	}
}

func grantID(d *schema.ResourceData) string {
	parts := []string{d.Get("role").(string), d.Get("database").(string)}
	objectType := d.Get("object_type").(string)
	if objectType != "database" && objectType != "schema" {
		parts = append(parts, d.Get("schema").(string))
	}
	parts = append(parts, objectType)
	parts = append(parts, setToStrings(d.Get("objects"))...)
	return strings.Join(parts, "_")
}

func validateGrant(d *schema.ResourceData) error {
	t := d.Get("object_type").(string)
	if !implementedGrantTypes[t] {
		return fmt.Errorf("object_type %q is not implemented by this test double of the provider", t)
	}
	if (t == "database" || t == "schema") && d.Get("objects").(*schema.Set).Len() > 0 {
		return fmt.Errorf("cannot specify `objects` when `object_type` is `database` or `schema`")
	}
	if t != "database" && d.Get("schema").(string) == "" {
		return fmt.Errorf("parameter 'schema' is mandatory for postgresql_grant resource")
	}
	if d.Get("with_grant_option").(bool) && strings.EqualFold(d.Get("role").(string), "public") {
		return fmt.Errorf("with_grant_option cannot be true for role 'public'")
	}
	return nil
}

// grantTarget is the ON clause: DATABASE d, SCHEMA s, ALL TABLES IN SCHEMA s, or TABLE s.a, s.b.
func grantTarget(d *schema.ResourceData) string {
	schemaName := pq.QuoteIdentifier(d.Get("schema").(string))
	switch t := d.Get("object_type").(string); t {
	case "database":
		return "DATABASE " + pq.QuoteIdentifier(d.Get("database").(string))
	case "schema":
		return "SCHEMA " + schemaName
	default:
		objects := setToStrings(d.Get("objects"))
		if len(objects) == 0 {
			return fmt.Sprintf("ALL %sS IN SCHEMA %s", strings.ToUpper(t), schemaName)
		}
		quoted := make([]string, len(objects))
		for i, o := range objects {
			quoted[i] = schemaName + "." + pq.QuoteIdentifier(o)
		}
		return strings.ToUpper(t) + " " + strings.Join(quoted, ", ")
	}
}

func grantCreate(c *Client, d *schema.ResourceData) diag.Diagnostics {
	if err := validateGrant(d); err != nil {
		return diag.FromErr(err)
	}
	err := c.inTx(d.Get("database").(string), func(tx *sql.Tx) error {
		target, role := grantTarget(d), roleIdent(d.Get("role").(string))
		return replacePrivileges(tx, d, fmt.Sprintf("REVOKE ALL PRIVILEGES ON %s FROM %s", target, role),
			func(privileges string) string { return fmt.Sprintf("GRANT %s ON %s TO %s", privileges, target, role) }, "privileges")
	})
	if err != nil {
		return diag.FromErr(err)
	}
	d.SetId(grantID(d))
	return grantReadImpl(c, d)
}

// granteeOID matches PUBLIC (grantee 0 in ACLs) or a role by name.
const granteeOID = `(CASE WHEN lower($1) = 'public' THEN 0::oid ELSE (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) END)`

func grantReadImpl(c *Client, d *schema.ResourceData) diag.Diagnostics {
	root, err := c.DB("")
	if err != nil {
		return diag.FromErr(err)
	}
	role, database, schemaName := d.Get("role").(string), d.Get("database").(string), d.Get("schema").(string)
	if ok, err := roleExists(root, role); err != nil || !ok {
		d.SetId("")
		return diag.FromErr(err)
	}
	if ok, err := dbExists(root, database); err != nil || !ok {
		d.SetId("")
		return diag.FromErr(err)
	}
	db, err := c.DB(database)
	if err != nil {
		return diag.FromErr(err)
	}
	objectType := d.Get("object_type").(string)
	if objectType != "database" {
		if ok, err := schemaExists(db, schemaName); err != nil || !ok {
			d.SetId("")
			return diag.FromErr(err)
		}
	}
	d.SetId(grantID(d))
	switch objectType {
	case "database":
		return readPrivilegeList(d, db, `SELECT COALESCE(array_agg(a.privilege_type::text), '{}') FROM pg_catalog.pg_database d,
			aclexplode(d.datacl) a WHERE d.datname = $2 AND a.grantee = `+granteeOID, role, database)
	case "schema":
		return readPrivilegeList(d, db, `SELECT COALESCE(array_agg(a.privilege_type::text), '{}') FROM pg_catalog.pg_namespace n,
			aclexplode(n.nspacl) a WHERE n.nspname = $2 AND a.grantee = `+granteeOID, role, schemaName)
	}
	// Every object of the type in the schema (or the listed objects) must carry exactly the
	// privileges of the state; otherwise privileges read back empty, so the plan shows the drift.
	var query string
	if objectType == "function" {
		query = `SELECT p.proname, COALESCE((SELECT array_agg(a.privilege_type::text) FROM aclexplode(p.proacl) a WHERE a.grantee = ` + granteeOID + `), '{}')
			FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $2`
	} else {
		query = `SELECT c.relname, COALESCE((SELECT array_agg(a.privilege_type::text) FROM aclexplode(c.relacl) a WHERE a.grantee = ` + granteeOID + `), '{}')
			FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $2 AND c.relkind IN (` + relkinds[objectType] + `)`
	}
	rows, err := db.Query(query, role, schemaName)
	if err != nil {
		return diag.FromErr(err)
	}
	defer rows.Close()
	wanted := map[string]bool{}
	for _, o := range setToStrings(d.Get("objects")) {
		wanted[o] = true
	}
	expected := setToStrings(d.Get("privileges"))
	for rows.Next() {
		var name string
		var privileges pq.StringArray
		if err := rows.Scan(&name, &privileges); err != nil {
			return diag.FromErr(err)
		}
		if len(wanted) > 0 && !wanted[name] {
			continue
		}
		if !sameSet(privileges, expected) {
			d.Set("privileges", []string{})
			return nil
		}
	}
	return diag.FromErr(rows.Err())
}

func readPrivilegeList(d *schema.ResourceData, db *sql.DB, query string, args ...interface{}) diag.Diagnostics {
	var privileges pq.StringArray
	if err := db.QueryRow(query, args...).Scan(&privileges); err != nil {
		return diag.FromErr(fmt.Errorf("could not read privileges: %w", err))
	}
	d.Set("privileges", []string(privileges))
	return nil
}

func grantDelete(c *Client, d *schema.ResourceData) diag.Diagnostics {
	root, err := c.DB("")
	if err != nil {
		return diag.FromErr(err)
	}
	// Nothing to revoke when the role or database is already gone.
	if ok, err := roleExists(root, d.Get("role").(string)); err != nil || !ok {
		return diag.FromErr(err)
	}
	if ok, err := dbExists(root, d.Get("database").(string)); err != nil || !ok {
		return diag.FromErr(err)
	}
	return diagErr(c.inTx(d.Get("database").(string), func(tx *sql.Tx) error {
		if d.Get("object_type").(string) != "database" {
			if ok, err := schemaExists(tx, d.Get("schema").(string)); err != nil || !ok {
				return err
			}
		}
		_, err := tx.Exec(fmt.Sprintf("REVOKE ALL PRIVILEGES ON %s FROM %s", grantTarget(d), roleIdent(d.Get("role").(string))))
		return err
	}))
}
