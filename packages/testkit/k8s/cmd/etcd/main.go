// etcd server for the local test cluster: the same entry point as upstream etcd's main
// (go.etcd.io/etcd/server/v3/etcdmain), at the version that k8s.io/kubernetes pins.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
