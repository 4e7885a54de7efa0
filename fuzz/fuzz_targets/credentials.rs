//! Certificate and token metadata readers (step 6): PEM bundles, DER certificates, JWT
//! claims and kubeconfig documents, all of which come from Secrets and kubeconfigs in the
//! cluster. Properties: never panics; errors never quote the input.
#![no_main]

use kube_doctor_core::credentials::{
    certificate_from_der, certificates_from_pem, kubeconfig_credentials, token_claims,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte splits the input into a certificate bundle and a CA bundle.
    let (split, rest) = match data.split_first() {
        Some((s, r)) => (*s as usize, r),
        None => return,
    };
    let at = if rest.is_empty() {
        0
    } else {
        split % (rest.len() + 1)
    };
    let (pem, ca) = rest.split_at(at);
    let _ = certificates_from_pem(pem, Some(ca));
    let _ = certificates_from_pem(rest, None);
    let _ = certificate_from_der(rest);
    let text = String::from_utf8_lossy(rest);
    if let Err(e) = token_claims(&text) {
        // Errors are fixed words, never the token.
        let msg = e.to_string();
        assert!(
            ["not a JWT", "JWT payload is not a JSON object of claims"].contains(&msg.as_str()),
            "unexpected error text {msg:?}"
        );
    }
    let _ = kubeconfig_credentials(&text, Some(ca));
});
