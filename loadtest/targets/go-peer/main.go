// The Go peer: a front proxy on Go's standard library alone, doing the per-request work of kcp's own
// front-proxy and of kcp-edge with a static token: workspace path → shard map, bearer token → identity
// map, X-Remote-* headers set (client-supplied ones dropped), httputil.ReverseProxy over HTTP/1.1 + mTLS.
// Built by the bench with `go build main.go` (no modules). Configuration: one JSON argument.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"
)

type route struct {
	Shard   string `json:"shard"`
	Cluster string `json:"cluster"`
}

type identity struct {
	User   string   `json:"user"`
	Groups []string `json:"groups"`
}

type config struct {
	Listen         string              `json:"listen"`
	CertFile       string              `json:"certFile"`
	KeyFile        string              `json:"keyFile"`
	CAFile         string              `json:"caFile"`
	ClientCertFile string              `json:"clientCertFile"`
	ClientKeyFile  string              `json:"clientKeyFile"`
	Connections    int                 `json:"connections"`
	Shards         map[string]string   `json:"shards"` // shard name → https://host:port
	Routes         map[string]route    `json:"routes"` // workspace path (root:org:ws) → shard and logical cluster
	Tokens         map[string]identity `json:"tokens"` // bearer token → identity
}

type target struct {
	shard   *url.URL
	cluster string
}

type ctxKey struct{}

func main() {
	var c config
	if err := json.Unmarshal([]byte(os.Args[1]), &c); err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(c.CAFile)
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		log.Fatalf("ca: %v", err)
	}
	clientCert, err := tls.LoadX509KeyPair(c.ClientCertFile, c.ClientKeyFile)
	if err != nil {
		log.Fatal(err)
	}
	routes := map[string]target{}
	for ws, r := range c.Routes {
		u, err := url.Parse(c.Shards[r.Shard])
		if err != nil || u.Host == "" {
			log.Fatalf("shard %q: %v", r.Shard, err)
		}
		routes[ws] = target{shard: u, cluster: r.Cluster}
	}

	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientCert}, ServerName: "localhost", MinVersion: tls.VersionTLS12},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // the shard hop stays HTTP/1.1
		MaxIdleConns:        c.Connections * 2,
		MaxIdleConnsPerHost: c.Connections,
		// Go 1.19's Transport abandons half-finished dials under load and re-dials (golang/go#50984):
		// capped at the client's concurrency, the pool fills once and stays.
		MaxConnsPerHost:     c.Connections,
		IdleConnTimeout:     120 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	proxy := &httputil.ReverseProxy{
		Director: func(r *http.Request) {
			t := r.Context().Value(ctxKey{}).(*resolved)
			r.URL.Scheme = t.shard.Scheme
			r.URL.Host = t.shard.Host
			r.URL.Path = t.path
			r.URL.RawPath = ""
			r.Host = t.shard.Host
			if _, ok := r.Header["User-Agent"]; !ok {
				r.Header.Set("User-Agent", "") // as kcp's front-proxy: no Go default user agent
			}
		},
		Transport: transport,
		ErrorLog:  log.New(io.Discard, "", 0),
	}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /clusters/<workspace path>/<rest>
		if !strings.HasPrefix(r.URL.Path, "/clusters/") {
			status(w, http.StatusNotFound, "NotFound", "no workspace in the path")
			return
		}
		ws, tail, _ := strings.Cut(r.URL.Path[len("/clusters/"):], "/")
		t, ok := routes[ws]
		if !ok {
			status(w, http.StatusNotFound, "NotFound", "workspace not found")
			return
		}
		auth := r.Header.Get("Authorization")
		id, known := c.Tokens[strings.TrimPrefix(auth, "Bearer ")]
		if !strings.HasPrefix(auth, "Bearer ") || !known {
			status(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
			return
		}
		for name := range r.Header {
			if strings.HasPrefix(name, "X-Remote-") {
				delete(r.Header, name)
			}
		}
		r.Header.Del("Authorization")
		r.Header.Set("X-Remote-User", id.User)
		r.Header["X-Remote-Group"] = id.Groups
		res := &resolved{shard: t.shard, path: "/clusters/" + t.cluster + "/" + tail}
		proxy.ServeHTTP(w, r.WithContext(contextWith(r, res)))
	})

	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		log.Fatal(err)
	}
	server := &http.Server{
		Addr:        c.Listen,
		Handler:     handler,
		TLSConfig:   &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, NextProtos: []string{"h2", "http/1.1"}},
		ErrorLog:    log.New(io.Discard, "", 0),
		IdleTimeout: 120 * time.Second,
	}
	log.Fatal(server.ListenAndServeTLS("", ""))
}

type resolved struct {
	shard *url.URL
	path  string
}

func status(w http.ResponseWriter, code int, reason, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	body, _ := json.Marshal(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "status": "Failure", "message": message, "reason": reason, "code": code})
	_, _ = w.Write(body)
}

func contextWith(r *http.Request, res *resolved) context.Context {
	return context.WithValue(r.Context(), ctxKey{}, res)
}
