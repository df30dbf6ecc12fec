// Command nodetools is the small static binary behind the local cluster's real
// nodes. It dispatches on its first argument (or the name it runs as):
//
//	pause                     the sandbox ("pause") image's process: waits for a signal
//	httpd [-addr :8080]       the demo app: GET /healthz -> 200 "ok", anything else ->
//	                          200 with the pod's name; on SIGTERM it shuts down as a
//	                          well-behaved server does (stops accepting, closes idle
//	                          connections, finishes requests in flight); staying in
//	                          the Service until kube-proxy has caught up is the pod's
//	                          preStop, not the server's job
//	relay -netns PATH -listen ADDR... -to ADDR
//	                          accepts TCP inside the network namespace PATH and relays
//	                          each connection to ADDR in our own namespace (how the
//	                          nodes and pods reach the API server on 127.0.0.1)
//	image -o OUT.tar -name REF -entrypoint WORD... FILE...
//	                          writes an OCI image archive of FILE... (placed at /) that
//	                          `ctr images import` names REF; no registry, no daemon
//
// Static (CGO_ENABLED=0), so one build serves both the host and the images.
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if name == "nodetools" && len(args) > 0 {
		name, args = args[0], args[1:]
	}
	var err error
	switch name {
	case "pause":
		pause()
	case "httpd":
		err = httpd(args)
	case "relay":
		err = relay(args)
	case "image":
		err = image(args)
	default:
		err = fmt.Errorf("unknown command %q (want pause, httpd, relay or image)", name)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "nodetools %s: %v\n", name, err)
		os.Exit(1)
	}
}

func pause() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}

func httpd(args []string) error {
	fs := flag.NewFlagSet("httpd", flag.ContinueOnError)
	addr := fs.String("addr", ":8080", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, host+"\n") })
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return <-done
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func relay(args []string) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	netns := fs.String("netns", "", "network namespace file (/run/netns/NAME)")
	to := fs.String("to", "", "where to relay, in our own namespace")
	var listen multi
	fs.Var(&listen, "listen", "address to listen on inside -netns (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *netns == "" || *to == "" || len(listen) == 0 {
		return fmt.Errorf("-netns, -to and -listen are required")
	}
	listeners, err := listenIn(*netns, listen)
	if err != nil {
		return err
	}
	for _, l := range listeners {
		go serve(l, *to)
	}
	select {}
}

// listenIn opens the listeners inside another network namespace: a socket
// belongs to the namespace it was created in, whatever thread uses it later.
// The thread that switched is locked and left to die with its goroutine, so
// no other goroutine ever runs in the wrong namespace.
func listenIn(netns string, addrs []string) ([]net.Listener, error) {
	type result struct {
		ls  []net.Listener
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		fd, err := unix.Open(netns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{nil, fmt.Errorf("open %s: %w", netns, err)}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			done <- result{nil, fmt.Errorf("setns %s: %w", netns, err)}
			return
		}
		var ls []net.Listener
		for _, a := range addrs {
			l, err := net.Listen("tcp", a)
			if err != nil {
				done <- result{nil, fmt.Errorf("listen %s in %s: %w", a, netns, err)}
				return
			}
			ls = append(ls, l)
		}
		done <- result{ls, nil}
	}()
	r := <-done
	return r.ls, r.err
}

func serve(l net.Listener, to string) {
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "relay: accept: %v\n", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		go func() {
			defer c.Close()
			u, err := net.DialTimeout("tcp", to, 5*time.Second)
			if err != nil {
				fmt.Fprintf(os.Stderr, "relay: dial %s: %v\n", to, err)
				return
			}
			defer u.Close()
			go func() { io.Copy(u, c); u.(*net.TCPConn).CloseWrite() }()
			io.Copy(c, u)
		}()
	}
}

func image(args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	out := fs.String("o", "", "output archive")
	ref := fs.String("name", "", "image reference, normalized (docker.io/library/x:tag)")
	var entry multi
	fs.Var(&entry, "entrypoint", "entrypoint argument (repeat for each word)")
	user := fs.String("user", "65532:65532", "USER of the image")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *ref == "" || len(entry) == 0 || fs.NArg() == 0 {
		return fmt.Errorf("-o, -name, -entrypoint and at least one FILE are required")
	}
	// The layer: each FILE at /<its base name>.
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	epoch := time.Unix(0, 0)
	for _, src := range fs.Args() {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: filepath.Base(src), Mode: 0o755, Size: int64(len(data)), ModTime: epoch}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	layerDigest := digest(layer.Bytes())
	config, _ := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Entrypoint": []string(entry), "User": *user, "WorkingDir": "/"},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
	})
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": len(config)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": layer.Len()}},
	})
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(manifest), "size": len(manifest),
			"platform":    map[string]string{"architecture": runtime.GOARCH, "os": "linux"},
			"annotations": map[string]string{"io.containerd.image.name": *ref, "org.opencontainers.image.ref.name": *ref},
		}},
	})
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	aw := tar.NewWriter(f)
	put := func(name string, data []byte) error {
		if err := aw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return err
		}
		_, err := aw.Write(data)
		return err
	}
	blob := func(data []byte) string { return "blobs/sha256/" + strings.TrimPrefix(digest(data), "sha256:") }
	for _, e := range []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", index},
		{blob(manifest), manifest},
		{blob(config), config},
		{blob(layer.Bytes()), layer.Bytes()},
	} {
		if err := put(e.name, e.data); err != nil {
			f.Close()
			return err
		}
	}
	if err := aw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}
