// A test double of the cyrilgdn/postgresql Terraform provider: the real provider's module is not
// served by the Go module proxy reachable here. It implements the resources dbctl generates
// (postgresql_role, _database, _schema, _grant, _default_privileges) with the real provider's
// schemas, IDs and semantics, against a real PostgreSQL. See docs/testing.md.
package main

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/plugin"

	"bcl.internal/testkit/terraform-provider-postgresql/postgresql"
)

func main() {
	plugin.Serve(&plugin.ServeOpts{ProviderFunc: postgresql.Provider})
}
