// Velero's own main (github.com/vmware-tanzu/velero/cmd/velero), with one
// change for running two Velero servers on one machine: controller-runtime's
// metrics server, which Velero gives no flag for, binds :8080 on every
// interface by default. "0" turns it off; Velero's own metrics stay on
// --metrics-address (127.0.0.1, see ../../up.sh).
package main

import (
	"os"
	"path/filepath"

	"k8s.io/klog/v2"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/vmware-tanzu/velero/pkg/cmd"
	"github.com/vmware-tanzu/velero/pkg/cmd/velero"
)

func main() {
	metricsserver.DefaultBindAddress = "0"
	defer klog.Flush()
	err := velero.NewCommand(filepath.Base(os.Args[0])).Execute()
	cmd.CheckError(err)
}
