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

func resourceDatabase() *schema.Resource {
	return &schema.Resource{
		CreateContext: locked(databaseCreate),
		ReadContext:   readLocked(databaseReadImpl),
		UpdateContext: locked(databaseUpdate),
		DeleteContext: locked(databaseDelete),
		Importer:      &schema.ResourceImporter{StateContext: schema.ImportStatePassthroughContext},
		Schema: map[string]*schema.Schema{
			"name":              {Type: schema.TypeString, Required: true, Description: "The PostgreSQL database name to connect to"},
			"owner":             {Type: schema.TypeString, Optional: true, Computed: true, Description: "The ROLE which owns the database"},
			"template":          {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
			"encoding":          {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
			"lc_collate":        {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
			"lc_ctype":          {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
			"tablespace_name":   {Type: schema.TypeString, Optional: true, Computed: true},
			"connection_limit":  {Type: schema.TypeInt, Optional: true, Default: -1, ValidateFunc: validation.IntAtLeast(-1)},
			"allow_connections": {Type: schema.TypeBool, Optional: true, Default: true},
			"is_template":       {Type: schema.TypeBool, Optional: true, Computed: true},
		},
	}
}

func databaseCreate(c *Client, d *schema.ResourceData) diag.Diagnostics {
	db, err := c.DB("")
	if err != nil {
		return diag.FromErr(err)
	}
	name := d.Get("name").(string)
	var b strings.Builder
	b.WriteString("CREATE DATABASE " + pq.QuoteIdentifier(name))
	if v, ok := d.GetOk("owner"); ok {
		b.WriteString(" OWNER " + pq.QuoteIdentifier(v.(string)))
	} else {
		b.WriteString(" OWNER CURRENT_USER")
	}
	if v, ok := d.GetOk("template"); ok && !strings.EqualFold(v.(string), "DEFAULT") {
		b.WriteString(" TEMPLATE " + pq.QuoteIdentifier(v.(string)))
	} else if !ok {
		b.WriteString(" TEMPLATE template0")
	}
	if v, ok := d.GetOk("encoding"); ok {
		b.WriteString(" ENCODING " + pq.QuoteLiteral(v.(string)))
	} else {
		b.WriteString(" ENCODING 'UTF8'")
	}
	if v, ok := d.GetOk("lc_collate"); ok {
		b.WriteString(" LC_COLLATE " + pq.QuoteLiteral(v.(string)))
	}
	if v, ok := d.GetOk("lc_ctype"); ok {
		b.WriteString(" LC_CTYPE " + pq.QuoteLiteral(v.(string)))
	}
	if v, ok := d.GetOk("tablespace_name"); ok {
		b.WriteString(" TABLESPACE " + pq.QuoteIdentifier(v.(string)))
	}
	fmt.Fprintf(&b, " ALLOW_CONNECTIONS %t CONNECTION LIMIT %d IS_TEMPLATE %t", d.Get("allow_connections").(bool), d.Get("connection_limit").(int), d.Get("is_template").(bool))
	if _, err := db.Exec(b.String()); err != nil {
		return diag.FromErr(fmt.Errorf("Error creating database %q: %w", name, err))
	}
	d.SetId(name)
	return databaseReadImpl(c, d)
}

func databaseReadImpl(c *Client, d *schema.ResourceData) diag.Diagnostics {
	db, err := c.DB("")
	if err != nil {
		return diag.FromErr(err)
	}
	var name, owner, encoding, collate, ctype, tablespace string
	var connLimit int
	var allowConn, isTemplate bool
	err = db.QueryRow(`SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba), pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype,
		ts.spcname, d.datconnlimit, d.datallowconn, d.datistemplate
		FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace ts ON ts.oid = d.dattablespace WHERE d.datname = $1`, d.Id()).
		Scan(&name, &owner, &encoding, &collate, &ctype, &tablespace, &connLimit, &allowConn, &isTemplate)
	if err == sql.ErrNoRows {
		d.SetId("")
		return nil
	}
	if err != nil {
		return diag.FromErr(fmt.Errorf("Error reading database: %w", err))
	}
	d.Set("name", name)
	d.Set("owner", owner)
	d.Set("encoding", encoding)
	d.Set("lc_collate", collate)
	d.Set("lc_ctype", ctype)
	d.Set("tablespace_name", tablespace)
	d.Set("connection_limit", connLimit)
	d.Set("allow_connections", allowConn)
	d.Set("is_template", isTemplate)
	if d.Get("template").(string) == "" {
		d.Set("template", "template0")
	}
	return nil
}

func databaseUpdate(c *Client, d *schema.ResourceData) diag.Diagnostics {
	db, err := c.DB("")
	if err != nil {
		return diag.FromErr(err)
	}
	exec := func(sql string) error {
		_, err := db.Exec(sql)
		return err
	}
	if d.HasChange("name") {
		o, n := d.GetChange("name")
		if err := exec(fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", pq.QuoteIdentifier(o.(string)), pq.QuoteIdentifier(n.(string)))); err != nil {
			return diag.FromErr(fmt.Errorf("Error updating database name: %w", err))
		}
		d.SetId(n.(string))
	}
	name := pq.QuoteIdentifier(d.Get("name").(string))
	if d.HasChange("owner") && d.Get("owner").(string) != "" {
		if err := exec(fmt.Sprintf("ALTER DATABASE %s OWNER TO %s", name, pq.QuoteIdentifier(d.Get("owner").(string)))); err != nil {
			return diag.FromErr(fmt.Errorf("Error updating database OWNER: %w", err))
		}
	}
	if d.HasChange("tablespace_name") {
		if err := exec(fmt.Sprintf("ALTER DATABASE %s SET TABLESPACE %s", name, pq.QuoteIdentifier(d.Get("tablespace_name").(string)))); err != nil {
			return diag.FromErr(err)
		}
	}
	if d.HasChange("connection_limit") {
		if err := exec(fmt.Sprintf("ALTER DATABASE %s CONNECTION LIMIT = %d", name, d.Get("connection_limit").(int))); err != nil {
			return diag.FromErr(err)
		}
	}
	if d.HasChange("allow_connections") {
		if err := exec(fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", name, d.Get("allow_connections").(bool))); err != nil {
			return diag.FromErr(err)
		}
	}
	if d.HasChange("is_template") {
		if err := exec(fmt.Sprintf("ALTER DATABASE %s IS_TEMPLATE %t", name, d.Get("is_template").(bool))); err != nil {
			return diag.FromErr(err)
		}
	}
	return databaseReadImpl(c, d)
}

func databaseDelete(c *Client, d *schema.ResourceData) diag.Diagnostics {
	db, err := c.DB("")
	if err != nil {
		return diag.FromErr(err)
	}
	name := d.Get("name").(string)
	c.closePool(name)
	if d.Get("is_template").(bool) {
		if _, err := db.Exec(fmt.Sprintf("ALTER DATABASE %s IS_TEMPLATE false", pq.QuoteIdentifier(name))); err != nil {
			return diag.FromErr(err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf("DROP DATABASE %s WITH (FORCE)", pq.QuoteIdentifier(name))); err != nil {
		return diag.FromErr(fmt.Errorf("Error dropping database: %w", err))
	}
	d.SetId("")
	return nil
}

func (c *Client) closePool(database string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if db, ok := c.pools[database]; ok {
		db.Close()
		delete(c.pools, database)
	}
}
