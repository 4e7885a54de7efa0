// lab-webhook is a real validating admission webhook that is slow (at /validate): it holds every review for
// --stall before allowing it. Registered with a timeout shorter than the stall and
// failurePolicy Fail, it makes the API server answer the client's writes with 500 "failed
// calling webhook ... context deadline exceeded", and makes the API server itself a failing
// client (its rest_client_requests_total for the webhook's host) - the apiserver-slow fault.
//
// With --stall-file it stalls only while that file exists and, when the file names API server
// identities (one a line: the bearer token each API server sends this webhook, from its
// admission configuration's kubeconfig), only the reviews those API servers send: one slow
// API server among three. Other reviews are allowed at once.
//
// /policy is a second webhook, a policy engine that answers at once: while the file named by
// --fail-file exists its backend is broken and every review is answered with HTTP 500 and no
// AdmissionReview, as a crashing handler does (the webhook-5xx fault).
//
//	lab-webhook --listen 127.0.0.1:17443 --cert FILE --key FILE --stall 10s [--stall-file FILE] [--fail-file FILE]
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"
)

type review struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Request    json.RawMessage `json:"request"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:17443", "address")
	cert := flag.String("cert", "", "serving certificate")
	key := flag.String("key", "", "serving key")
	stall := flag.Duration("stall", 10*time.Second, "how long each review is held")
	stallFile := flag.String("stall-file", "", "stall only while this file exists (and only the API servers it names)")
	failFile := flag.String("fail-file", "", "while this file exists, answer every review with HTTP 500")
	flag.Parse()
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	http.HandleFunc("/validate", func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, func(uid, caller string) bool {
			if !shouldStall(*stallFile, caller) {
				return true
			}
			log.Printf("lab-webhook: holding review %s from %q for %s", uid, caller, *stall)
			select {
			case <-time.After(*stall):
				return true
			case <-r.Context().Done():
				log.Printf("lab-webhook: caller gave up on review %s", uid)
				return false
			}
		})
	})
	http.HandleFunc("/policy", func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, func(uid, caller string) bool {
			if *failFile == "" {
				return true
			}
			if _, err := os.Stat(*failFile); err != nil {
				return true
			}
			log.Printf("lab-webhook: policy backend failing review %s from %q with 500", uid, caller)
			http.Error(w, "policy engine unavailable: internal error evaluating policies", http.StatusInternalServerError)
			return false
		})
	})
	log.Printf("lab-webhook: listening on %s, stalling %s (stall file %q, fail file %q)", *listen, *stall, *stallFile, *failFile)
	log.Fatal(http.ListenAndServeTLS(*listen, *cert, *key, nil))
}

// shouldStall: without a stall file, always (the webhook only exists during the fault); with
// one, while it exists, for the callers it names (or for all when it names none).
func shouldStall(file, caller string) bool {
	if file == "" {
		return true
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	names := strings.Fields(string(b))
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if n == caller {
			return true
		}
	}
	return false
}

// handle reads an AdmissionReview, lets decide act on it (false: it has answered, or the
// caller is gone) and otherwise allows it.
func handle(w http.ResponseWriter, r *http.Request, decide func(uid, caller string) bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in review
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, "not an AdmissionReview: "+err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		UID string `json:"uid"`
	}
	_ = json.Unmarshal(in.Request, &req)
	caller := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !decide(req.UID, caller) {
		return
	}
	out := map[string]any{
		"apiVersion": "admission.k8s.io/v1",
		"kind":       "AdmissionReview",
		"response":   map[string]any{"uid": req.UID, "allowed": true},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
