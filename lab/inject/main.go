// lab-inject is a FAKE, on purpose: a small HTTP fault-injecting reverse proxy for the answers a
// real kube-apiserver or Prometheus cannot be made to give on demand - 429 with Retry-After,
// 500/503/504, a 200 whose JSON body is cut short. Everything it does not inject it forwards
// unchanged to the real component behind it, so a test sees the real answers except the ones
// it asked to have replaced. (Faults below HTTP - latency, stalls, resets, cut streams - come
// from toxiproxy, see lab/faultproxy.)
//
// In front of the API server it terminates TLS with a certificate of the lab CA (the API
// server's own serving certificate, so clients verify it as they verify the API server) and
// re-originates TLS upstream. A client that authenticated with a client certificate keeps its
// identity: the proxy sends the certificate's CN and O as X-Remote-User / X-Remote-Group
// with its front-proxy certificate (the API server's request-header authentication, as an
// aggregating or authenticating proxy does); a client with a bearer token is forwarded with
// its Authorization header and no client certificate. X-Remote-* headers from clients are
// always dropped.
//
// Which requests get which answer is set at run time on the control address:
//
//	PUT    /rules   [{"name": "...", "method": "GET", "path": "regex", "query": "regex",
//	                  "answer": "status" | "truncate", "code": 429, "retry_after": 2,
//	                  "body": "status" | "text", "times": 0, "keep": 0.5}, ...]
//	DELETE /rules   forward everything again
//	GET    /stats   {"requests": N, "injected": M, "log": [{"at", "method", "path", "code",
//	                  "rule", "ms"}, ...]}   (every request since the last reset)
//	DELETE /stats   reset the counts and the log
//
// A rule matches a request when its method (empty: any), path regex and query regex (empty:
// any) match; the first matching rule that still has injections left answers. "times" is how
// many matching requests it answers (0: all of them). "status" answers "code" with the body
// the component would send: a metav1.Status (kind Status, reason from the code,
// details.retryAfterSeconds when retry_after is set) for --flavor kubernetes, a Prometheus API
// error ({"status":"error",...}) for --flavor prometheus, or plain text with "body": "text" (what
// a load balancer or a query front end sends); retry_after also sets the Retry-After header.
// "truncate" forwards the request (asking for an uncompressed body), then answers the real
// status and headers with only the first "keep" fraction (default 0.5) of the body, its
// Content-Length set to match: a complete HTTP answer holding cut JSON.
//
//	lab-inject --flavor kubernetes --listen 127.0.0.1:16445 --upstream https://127.0.0.1:16443 \
//	  --tls-cert apiserver.crt --tls-key apiserver.key --client-ca ca.crt --upstream-ca ca.crt \
//	  --front-proxy-cert fp.crt --front-proxy-key fp.key --control 127.0.0.1:18475
//	lab-inject --flavor prometheus --listen 127.0.0.1:19092 --upstream http://127.0.0.1:19090 \
//	  --control 127.0.0.1:18476
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rule is one injected answer, as PUT on /rules.
type Rule struct {
	Name       string  `json:"name"`
	Method     string  `json:"method"`
	Path       string  `json:"path"`
	Query      string  `json:"query"`
	Answer     string  `json:"answer"`
	Code       int     `json:"code"`
	RetryAfter int     `json:"retry_after"`
	Body       string  `json:"body"`
	Times      int     `json:"times"`
	Keep       float64 `json:"keep"`

	path, query *regexp.Regexp
	used        int
}

// Entry is one request, as GET /stats shows it.
type Entry struct {
	At     string `json:"at"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Code   int    `json:"code"`
	Rule   string `json:"rule,omitempty"`
	Ms     int64  `json:"ms"`
}

type state struct {
	mu       sync.Mutex
	rules    []*Rule
	log      []Entry
	injected int
}

// pick returns the rule that answers this request, counting its use.
func (s *state) pick(r *http.Request) *Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rule := range s.rules {
		if rule.Method != "" && !strings.EqualFold(rule.Method, r.Method) {
			continue
		}
		if rule.path != nil && !rule.path.MatchString(r.URL.Path) {
			continue
		}
		if rule.query != nil && !rule.query.MatchString(r.URL.RawQuery) {
			continue
		}
		if rule.Times > 0 && rule.used >= rule.Times {
			continue
		}
		rule.used++
		s.injected++
		return rule
	}
	return nil
}

func (s *state) record(e Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) < 100000 {
		s.log = append(s.log, e)
	}
}

func (s *state) setRules(rules []*Rule) error {
	for i, r := range rules {
		if r.Name == "" {
			r.Name = fmt.Sprintf("rule-%d", i)
		}
		var err error
		if r.Path != "" {
			if r.path, err = regexp.Compile(r.Path); err != nil {
				return fmt.Errorf("rule %s: path: %v", r.Name, err)
			}
		}
		if r.Query != "" {
			if r.query, err = regexp.Compile(r.Query); err != nil {
				return fmt.Errorf("rule %s: query: %v", r.Name, err)
			}
		}
		switch r.Answer {
		case "status":
			if r.Code < 400 || r.Code > 599 {
				return fmt.Errorf("rule %s: code %d is not an error status", r.Name, r.Code)
			}
		case "truncate":
			if r.Keep == 0 {
				r.Keep = 0.5
			}
			if r.Keep < 0 || r.Keep >= 1 {
				return fmt.Errorf("rule %s: keep %v is not in [0, 1)", r.Name, r.Keep)
			}
		default:
			return fmt.Errorf("rule %s: answer %q is not status or truncate", r.Name, r.Answer)
		}
		if r.Body != "" && r.Body != "status" && r.Body != "text" {
			return fmt.Errorf("rule %s: body %q is not status or text", r.Name, r.Body)
		}
	}
	s.mu.Lock()
	s.rules = rules
	s.mu.Unlock()
	return nil
}

var reasons = map[int]string{
	400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
	410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
	503: "ServiceUnavailable", 504: "Timeout",
}

// errorBody is what the component itself would answer with this status.
func errorBody(flavor string, rule *Rule) (string, []byte) {
	msg := fmt.Sprintf("%d %s (injected by lab-inject rule %s)", rule.Code, http.StatusText(rule.Code), rule.Name)
	if rule.Body == "text" {
		return "text/plain; charset=utf-8", []byte(msg + "\n")
	}
	if flavor == "prometheus" {
		b, _ := json.Marshal(map[string]string{"status": "error", "errorType": "unavailable", "error": msg})
		return "application/json", b
	}
	status := map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reasons[rule.Code], "code": rule.Code,
	}
	if rule.Code == 429 && rule.RetryAfter == 0 {
		status["message"] = "Too many requests, please try again later."
	}
	if rule.RetryAfter > 0 {
		status["details"] = map[string]any{"retryAfterSeconds": rule.RetryAfter}
	}
	b, _ := json.Marshal(status)
	return "application/json", b
}

// recorder remembers the status a handler wrote.
type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int)        { r.code = code; r.ResponseWriter.WriteHeader(code) }
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// pickTransport re-originates a request whose client was verified (X-Remote-User set above)
// with the front-proxy certificate, any other without a client certificate.
type pickTransport struct{ plain, front http.RoundTripper }

func (p pickTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("X-Remote-User") != "" {
		return p.front.RoundTrip(r)
	}
	return p.plain.RoundTrip(r)
}

func must(err error, what string) {
	if err != nil {
		log.Fatalf("lab-inject: %s: %v", what, err)
	}
}

func main() {
	flavor := flag.String("flavor", "kubernetes", "whose error bodies to imitate: kubernetes or prometheus")
	listen := flag.String("listen", "", "address to serve on")
	upstreamURL := flag.String("upstream", "", "the real component (http:// or https:// URL)")
	control := flag.String("control", "", "address of the control API (rules, stats)")
	tlsCert := flag.String("tls-cert", "", "serve TLS with this certificate")
	tlsKey := flag.String("tls-key", "", "and this key")
	clientCA := flag.String("client-ca", "", "verify client certificates against this CA (when given)")
	upstreamCA := flag.String("upstream-ca", "", "verify the upstream against this CA")
	fpCert := flag.String("front-proxy-cert", "", "client certificate for re-originating verified clients")
	fpKey := flag.String("front-proxy-key", "", "and its key")
	flag.Parse()
	if *listen == "" || *upstreamURL == "" || *control == "" {
		fmt.Fprintln(os.Stderr, "usage: lab-inject --listen ADDR --upstream URL --control ADDR [TLS flags]")
		os.Exit(2)
	}
	if *flavor != "kubernetes" && *flavor != "prometheus" {
		log.Fatalf("lab-inject: --flavor %q is not kubernetes or prometheus", *flavor)
	}
	upstream, err := url.Parse(*upstreamURL)
	must(err, "--upstream")

	upTLS := &tls.Config{MinVersion: tls.VersionTLS12}
	if *upstreamCA != "" {
		pem, err := os.ReadFile(*upstreamCA)
		must(err, "--upstream-ca")
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			log.Fatalf("lab-inject: --upstream-ca %s holds no certificate", *upstreamCA)
		}
		upTLS.RootCAs = pool
	}
	base := func(cfg *tls.Config) *http.Transport {
		return &http.Transport{
			TLSClientConfig:     cfg,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
			// Compression is passed through: the client's Accept-Encoding goes upstream as is.
			DisableCompression: true,
		}
	}
	transport := pickTransport{plain: base(upTLS.Clone()), front: base(upTLS.Clone())}
	if *fpCert != "" {
		pair, err := tls.LoadX509KeyPair(*fpCert, *fpKey)
		must(err, "--front-proxy-cert/--front-proxy-key")
		front := upTLS.Clone()
		front.Certificates = []tls.Certificate{pair}
		transport.front = base(front)
	}

	st := &state{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Host = upstream.Host
		},
		Transport:     transport,
		FlushInterval: -1,
		ErrorLog:      log.New(os.Stderr, "lab-inject: ", log.LstdFlags),
	}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		// Identities come only from verified certificates.
		for k := range r.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-remote-") {
				r.Header.Del(k)
			}
		}
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			cert := r.TLS.VerifiedChains[0][0]
			r.Header.Set("X-Remote-User", cert.Subject.CommonName)
			for _, g := range cert.Subject.Organization {
				r.Header.Add("X-Remote-Group", g)
			}
		}
		rule := st.pick(r)
		rec := &recorder{ResponseWriter: w, code: 200}
		name := ""
		switch {
		case rule == nil:
			proxy.ServeHTTP(rec, r)
		case rule.Answer == "status":
			name = rule.Name
			ctype, body := errorBody(*flavor, rule)
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			if rule.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(rule.RetryAfter))
			}
			rec.WriteHeader(rule.Code)
			_, _ = w.Write(body)
		case rule.Answer == "truncate":
			name = rule.Name
			truncate(rec, r, proxy, rule.Keep)
		}
		st.record(Entry{
			At: started.UTC().Format(time.RFC3339Nano), Method: r.Method, Path: r.URL.Path,
			Code: rec.code, Rule: name, Ms: time.Since(started).Milliseconds(),
		})
	})

	go serveControl(*control, st)

	srv := &http.Server{Addr: *listen, Handler: handler, ReadHeaderTimeout: 30 * time.Second}
	log.Printf("lab-inject (%s): %s -> %s, control on %s", *flavor, *listen, upstream, *control)
	if *tlsCert != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if *clientCA != "" {
			pem, err := os.ReadFile(*clientCA)
			must(err, "--client-ca")
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				log.Fatalf("lab-inject: --client-ca %s holds no certificate", *clientCA)
			}
			cfg.ClientCAs = pool
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		}
		srv.TLSConfig = cfg
		must(srv.ListenAndServeTLS(*tlsCert, *tlsKey), "serve")
	}
	must(srv.ListenAndServe(), "serve")
}

// truncate forwards r, then answers with the first `keep` of the real body.
func truncate(w *recorder, r *http.Request, proxy *httputil.ReverseProxy, keep float64) {
	r.Header.Del("Accept-Encoding")
	buf := &bufferWriter{header: http.Header{}, code: 200}
	proxy.ServeHTTP(buf, r)
	body := buf.body.Bytes()
	cut := body[:int(float64(len(body))*keep)]
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Encoding")
	w.Header().Set("Content-Length", strconv.Itoa(len(cut)))
	w.WriteHeader(buf.code)
	_, _ = w.Write(cut)
}

// bufferWriter collects a whole answer.
type bufferWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferWriter) WriteHeader(code int)        { b.code = code }

func serveControl(addr string, st *state) {
	mux := http.NewServeMux()
	mux.HandleFunc("/rules", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			var rules []*Rule
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err := json.Unmarshal(body, &rules); err != nil {
				http.Error(w, "rules: "+err.Error(), http.StatusBadRequest)
				return
			}
			if err := st.setRules(rules); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			log.Printf("lab-inject: %d rule(s) set", len(rules))
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			_ = st.setRules(nil)
			log.Printf("lab-inject: rules cleared")
			w.WriteHeader(http.StatusNoContent)
		case http.MethodGet:
			st.mu.Lock()
			defer st.mu.Unlock()
			_ = json.NewEncoder(w).Encode(st.rules)
		default:
			http.Error(w, "PUT, DELETE or GET", http.StatusMethodNotAllowed)
		}
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		defer st.mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"requests": len(st.log), "injected": st.injected, "log": st.log,
			})
		case http.MethodDelete:
			st.log = nil
			st.injected = 0
			for _, r := range st.rules {
				r.used = 0
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "GET or DELETE", http.StatusMethodNotAllowed)
		}
	})
	must(http.ListenAndServe(addr, mux), "control")
}
