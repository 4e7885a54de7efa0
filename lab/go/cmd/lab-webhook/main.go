// lab-webhook is a real validating admission webhook that is slow: it holds every review for
// --stall before allowing it. Registered with a timeout shorter than the stall and
// failurePolicy Fail, it makes the API server answer the client's writes with 500 "failed
// calling webhook ... context deadline exceeded", and makes the API server itself a failing
// client (its rest_client_requests_total for the webhook's host) - the apiserver-slow fault.
//
//	lab-webhook --listen 127.0.0.1:17443 --cert FILE --key FILE --stall 10s
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
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
	flag.Parse()
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	http.HandleFunc("/validate", func(w http.ResponseWriter, r *http.Request) {
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
		log.Printf("lab-webhook: holding review %s for %s", req.UID, *stall)
		select {
		case <-time.After(*stall):
		case <-r.Context().Done():
			log.Printf("lab-webhook: caller gave up on review %s", req.UID)
			return
		}
		out := map[string]any{
			"apiVersion": "admission.k8s.io/v1",
			"kind":       "AdmissionReview",
			"response":   map[string]any{"uid": req.UID, "allowed": true},
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	log.Printf("lab-webhook: listening on %s, stalling %s", *listen, *stall)
	log.Fatal(http.ListenAndServeTLS(*listen, *cert, *key, nil))
}
