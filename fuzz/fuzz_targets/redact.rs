#![no_main]
use libfuzzer_sys::fuzz_target;
fuzz_target!(|data: &[u8]| {
    let _ = kube_doctor_core::redact::redact(&String::from_utf8_lossy(data));
});
