//! A TCP connect and TLS handshake to an API server endpoint, timed, keeping the serving
//! certificate's metadata. The certificate is accepted whatever it is: this is an inspection
//! (is it expired? for which names? from which issuer?), not a connection that trusts it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube_doctor_core::bundle::HandshakeProbe;
use kube_doctor_core::credentials::certificate_from_der_with_ca;
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Accepts any certificate; used only to look at it.
#[derive(Debug)]
struct Inspect(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Inspect {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Connects to `host:port`, then handshakes TLS, each within `timeout`.
pub async fn handshake(host: &str, port: u16, timeout: Duration) -> HandshakeProbe {
    handshake_as(host, port, None, None, timeout).await
}

/// [`handshake`], asking for the TLS server name `sni` (a Service's `name.ns.svc`) instead of
/// `host`, and checking the serving certificate against `ca_pem` (a webhook's `caBundle`):
/// the probe's `serving_cert.chains_to_cluster_ca` then says whether that CA signed it.
pub async fn handshake_as(
    host: &str,
    port: u16,
    sni: Option<&str>,
    ca_pem: Option<&[u8]>,
    timeout: Duration,
) -> HandshakeProbe {
    let endpoint = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut probe = HandshakeProbe {
        endpoint: endpoint.clone(),
        tcp_ms: None,
        tls_ms: None,
        error: None,
        serving_cert: None,
    };
    let started = Instant::now();
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(&endpoint)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            probe.error = Some(format!("TCP connect failed: {e}"));
            return probe;
        }
        Err(_) => {
            probe.error = Some(format!("TCP connect timed out after {timeout:?}"));
            return probe;
        }
    };
    probe.tcp_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = match rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Inspect(provider)))
            .with_no_client_auth(),
        Err(e) => {
            probe.error = Some(format!("TLS setup failed: {e}"));
            return probe;
        }
    };
    let name = match ServerName::try_from(sni.unwrap_or(host).to_string()) {
        Ok(n) => n,
        Err(e) => {
            probe.error = Some(format!("{host} is not a TLS server name: {e}"));
            return probe;
        }
    };
    let tls_started = Instant::now();
    match tokio::time::timeout(
        timeout,
        TlsConnector::from(Arc::new(config)).connect(name, tcp),
    )
    .await
    {
        Ok(Ok(stream)) => {
            probe.tls_ms = Some(tls_started.elapsed().as_secs_f64() * 1000.0);
            let (_, conn) = stream.get_ref();
            if let Some(cert) = conn.peer_certificates().and_then(|c| c.first()) {
                match certificate_from_der_with_ca(cert.as_ref(), ca_pem) {
                    Ok(meta) => probe.serving_cert = Some(meta),
                    Err(e) => probe.error = Some(format!("serving certificate: {e}")),
                }
            }
        }
        Ok(Err(e)) => probe.error = Some(format!("TLS handshake failed: {e}")),
        Err(_) => probe.error = Some(format!("TLS handshake timed out after {timeout:?}")),
    }
    probe
}
