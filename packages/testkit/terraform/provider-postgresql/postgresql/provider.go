// Package postgresql is a test double of the cyrilgdn/postgresql Terraform provider: the provider
// configuration and the resources dbctl generates, with the real provider's attribute names,
// defaults, ForceNew flags, resource IDs and read-back semantics (privileges are read from the
// catalogs, so drift shows in a plan), against a real PostgreSQL server.
package postgresql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
	_ "github.com/lib/pq"
)

// Provider is the provider's schema: the connection attributes of the real provider and the
// environment variables it honours (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE...).
func Provider() *schema.Provider {
	return &schema.Provider{
		Schema: map[string]*schema.Schema{
			"scheme":            {Type: schema.TypeString, Optional: true, Default: "postgres", ValidateFunc: validation.StringInSlice([]string{"postgres", "awspostgres", "gcppostgres"}, false)},
			"host":              {Type: schema.TypeString, Optional: true, DefaultFunc: schema.EnvDefaultFunc("PGHOST", nil), Description: "Name of PostgreSQL server address to connect to"},
			"port":              {Type: schema.TypeInt, Optional: true, DefaultFunc: schema.EnvDefaultFunc("PGPORT", 5432)},
			"database":          {Type: schema.TypeString, Optional: true, DefaultFunc: schema.EnvDefaultFunc("PGDATABASE", "postgres")},
			"username":          {Type: schema.TypeString, Optional: true, DefaultFunc: schema.EnvDefaultFunc("PGUSER", "postgres")},
			"password":          {Type: schema.TypeString, Optional: true, Sensitive: true, DefaultFunc: schema.EnvDefaultFunc("PGPASSWORD", nil)},
			"database_username": {Type: schema.TypeString, Optional: true},
			"superuser":         {Type: schema.TypeBool, Optional: true, DefaultFunc: schema.EnvDefaultFunc("PGSUPERUSER", true)},
			"sslmode":           {Type: schema.TypeString, Optional: true, DefaultFunc: schema.EnvDefaultFunc("PGSSLMODE", nil)},
			"sslrootcert":       {Type: schema.TypeString, Optional: true},
			"connect_timeout":   {Type: schema.TypeInt, Optional: true, DefaultFunc: schema.EnvDefaultFunc("PGCONNECT_TIMEOUT", 180), ValidateFunc: validation.IntAtLeast(-1)},
			"max_connections":   {Type: schema.TypeInt, Optional: true, Default: 20, ValidateFunc: validation.IntAtLeast(-1)},
			"expected_version":  {Type: schema.TypeString, Optional: true, Default: "9.0.0"},
		},
		ResourcesMap: map[string]*schema.Resource{
			"postgresql_database":           resourceDatabase(),
			"postgresql_default_privileges": resourceDefaultPrivileges(),
			"postgresql_grant":              resourceGrant(),
			"postgresql_role":               resourceRole(),
			"postgresql_schema":             resourceSchema(),
		},
		ConfigureContextFunc: configure,
	}
}

// Client holds one connection pool per database, opened on first use, like the real provider.
type Client struct {
	host, user, password, database, sslmode, sslrootcert string
	port, connectTimeout, maxConns                       int
	superuser                                            bool
	mu                                                   sync.Mutex
	pools                                                map[string]*sql.DB
	// Serialises catalog changes across resources applied in parallel (the real provider's catalogLock).
	catalogLock sync.RWMutex
}

func configure(_ context.Context, d *schema.ResourceData) (interface{}, diag.Diagnostics) {
	c := &Client{
		host:           d.Get("host").(string),
		port:           d.Get("port").(int),
		user:           d.Get("username").(string),
		password:       d.Get("password").(string),
		database:       d.Get("database").(string),
		sslmode:        d.Get("sslmode").(string),
		sslrootcert:    d.Get("sslrootcert").(string),
		connectTimeout: d.Get("connect_timeout").(int),
		maxConns:       d.Get("max_connections").(int),
		superuser:      d.Get("superuser").(bool),
		pools:          map[string]*sql.DB{},
	}
	if v := d.Get("database_username").(string); v != "" {
		c.user = v
	}
	if c.sslmode == "" {
		c.sslmode = "prefer"
	}
	return c, nil
}

// DB is the pool for a database ("" is the provider's database).
func (c *Client) DB(database string) (*sql.DB, error) {
	if database == "" {
		database = c.database
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if db, ok := c.pools[database]; ok {
		return db, nil
	}
	parts := []string{
		"host=" + dsnQuote(c.host), fmt.Sprintf("port=%d", c.port), "user=" + dsnQuote(c.user), "dbname=" + dsnQuote(database),
		"sslmode=" + dsnQuote(c.sslmode), fmt.Sprintf("connect_timeout=%d", c.connectTimeout), "application_name='Terraform provider'",
	}
	if c.password != "" {
		parts = append(parts, "password="+dsnQuote(c.password))
	}
	if c.sslrootcert != "" {
		parts = append(parts, "sslrootcert="+dsnQuote(c.sslrootcert))
	}
	db, err := sql.Open("postgres", strings.Join(parts, " "))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(c.maxConns)
	db.SetMaxIdleConns(2)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("error connecting to PostgreSQL server %s (scheme: postgres): %w", c.host, err)
	}
	c.pools[database] = db
	return db, nil
}

func dsnQuote(v string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `'`, `\'`) + "'"
}

// inTx runs body in one transaction on a database.
func (c *Client) inTx(database string, body func(*sql.Tx) error) error {
	db, err := c.DB(database)
	if err != nil {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if err := body(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func diagErr(err error) diag.Diagnostics {
	if err == nil {
		return nil
	}
	return diag.FromErr(err)
}

// locked wraps a create, update or delete: catalog changes of resources applied in parallel are
// serialised, as the real provider does with its catalogLock.
func locked(f func(*Client, *schema.ResourceData) diag.Diagnostics) func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics {
	return func(_ context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		c := meta.(*Client)
		c.catalogLock.Lock()
		defer c.catalogLock.Unlock()
		return f(c, d)
	}
}

// readLocked wraps a read: reads run together, never during a catalog change.
func readLocked(f func(*Client, *schema.ResourceData) diag.Diagnostics) func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics {
	return func(_ context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		c := meta.(*Client)
		c.catalogLock.RLock()
		defer c.catalogLock.RUnlock()
		return f(c, d)
	}
}
