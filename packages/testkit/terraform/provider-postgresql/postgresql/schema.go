package postgresql

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/lib/pq"
)

func resourceSchema() *schema.Resource {
	return &schema.Resource{
		CreateContext: locked(schemaCreate),
		ReadContext:   readLocked(schemaReadImpl),
		UpdateContext: locked(schemaUpdate),
		DeleteContext: locked(schemaDelete),
		Importer:      &schema.ResourceImporter{StateContext: schema.ImportStatePassthroughContext},
		Schema: map[string]*schema.Schema{
			"name":          {Type: schema.TypeString, Required: true, Description: "The name of the schema"},
			"database":      {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
			"owner":         {Type: schema.TypeString, Optional: true, Computed: true},
			"if_not_exists": {Type: schema.TypeBool, Optional: true, Default: true},
			"drop_cascade":  {Type: schema.TypeBool, Optional: true, Default: false},
		},
	}
}

// The real provider's schema ID: "<database>.<schema>".
func schemaID(database, name string) string { return database + "." + name }

func schemaDatabase(c *Client, d *schema.ResourceData) string {
	if v := d.Get("database").(string); v != "" {
		return v
	}
	return c.database
}

func schemaCreate(c *Client, d *schema.ResourceData) diag.Diagnostics {
	database := schemaDatabase(c, d)
	name := d.Get("name").(string)
	err := c.inTx(database, func(tx *sql.Tx) error {
		exists, err := schemaExists(tx, name)
		if err != nil {
			return err
		}
		if !exists {
			stmt := "CREATE SCHEMA "
			if d.Get("if_not_exists").(bool) {
				stmt += "IF NOT EXISTS "
			}
			stmt += pq.QuoteIdentifier(name)
			if v, ok := d.GetOk("owner"); ok {
				stmt += " AUTHORIZATION " + pq.QuoteIdentifier(v.(string))
			}
			_, err = tx.Exec(stmt)
		} else if v, ok := d.GetOk("owner"); ok {
			_, err = tx.Exec(fmt.Sprintf("ALTER SCHEMA %s OWNER TO %s", pq.QuoteIdentifier(name), pq.QuoteIdentifier(v.(string))))
		}
		if err != nil {
			return fmt.Errorf("Error creating schema %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return diag.FromErr(err)
	}
	d.SetId(schemaID(database, name))
	return schemaReadImpl(c, d)
}

func schemaReadImpl(c *Client, d *schema.ResourceData) diag.Diagnostics {
	database, name := schemaDatabase(c, d), d.Get("name").(string)
	if parts := strings.SplitN(d.Id(), ".", 2); len(parts) == 2 && (name == "" || d.Get("database").(string) == "") {
		database, name = parts[0], parts[1] // import by ID
	}
	root, err := c.DB("")
	if err != nil {
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
	var owner string
	err = db.QueryRow("SELECT pg_catalog.pg_get_userbyid(n.nspowner) FROM pg_catalog.pg_namespace n WHERE n.nspname = $1", name).Scan(&owner)
	if err == sql.ErrNoRows {
		d.SetId("")
		return nil
	}
	if err != nil {
		return diag.FromErr(fmt.Errorf("Error reading schema: %w", err))
	}
	d.Set("name", name)
	d.Set("owner", owner)
	d.Set("database", database)
	d.SetId(schemaID(database, name))
	return nil
}

func schemaUpdate(c *Client, d *schema.ResourceData) diag.Diagnostics {
	database := schemaDatabase(c, d)
	err := c.inTx(database, func(tx *sql.Tx) error {
		if d.HasChange("name") {
			o, n := d.GetChange("name")
			if _, err := tx.Exec(fmt.Sprintf("ALTER SCHEMA %s RENAME TO %s", pq.QuoteIdentifier(o.(string)), pq.QuoteIdentifier(n.(string)))); err != nil {
				return fmt.Errorf("Error updating schema NAME: %w", err)
			}
		}
		if d.HasChange("owner") && d.Get("owner").(string) != "" {
			if _, err := tx.Exec(fmt.Sprintf("ALTER SCHEMA %s OWNER TO %s", pq.QuoteIdentifier(d.Get("name").(string)), pq.QuoteIdentifier(d.Get("owner").(string)))); err != nil {
				return fmt.Errorf("Error updating schema OWNER: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return diag.FromErr(err)
	}
	d.SetId(schemaID(database, d.Get("name").(string)))
	return schemaReadImpl(c, d)
}

func schemaDelete(c *Client, d *schema.ResourceData) diag.Diagnostics {
	mode := "RESTRICT"
	if d.Get("drop_cascade").(bool) {
		mode = "CASCADE"
	}
	return diagErr(c.inTx(schemaDatabase(c, d), func(tx *sql.Tx) error {
		if _, err := tx.Exec(fmt.Sprintf("DROP SCHEMA IF EXISTS %s %s", pq.QuoteIdentifier(d.Get("name").(string)), mode)); err != nil {
			return fmt.Errorf("Error deleting schema: %w", err)
		}
		return nil
	}))
}
