//! `Bundle::from_json`, the reader of files users attach to tickets. Properties: never
//! panics; a bundle it accepts serialises and reads back to an equal bundle (what
//! `collect` writes, `diagnose` reads).
#![no_main]

use kube_doctor_core::bundle::Bundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = Bundle::from_json(data) {
        let json = serde_json::to_vec(&bundle).expect("an accepted bundle serialises");
        let again = Bundle::from_json(&json).expect("a written bundle reads back");
        assert_eq!(
            serde_json::to_value(&again).ok(),
            serde_json::to_value(&bundle).ok(),
            "round trip changed the bundle"
        );
    }
});
