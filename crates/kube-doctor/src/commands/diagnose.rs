//! `kube-doctor diagnose BUNDLE`: the diagnosis of a saved bundle, without any network, with
//! this run's threshold and correlation windows (the bundle's own threshold by default). Exit
//! code from the report ([`crate::report_out::exit_code`]); 2 when the bundle cannot be read.

use std::process::ExitCode;

use kube_doctor_core::clients::Threshold;
use kube_doctor_core::diagnose::{self, ServerThresholds};

use crate::cli::DiagnoseArgs;

pub fn run(args: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    let settings = diagnose::Settings {
        threshold: args
            .threshold
            .map(Threshold::new)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--threshold {e}"))?,
        windows: crate::settings::correlation_windows(&args.windows)?,
        server: ServerThresholds::default(),
    };
    let bundle = crate::report_out::read_bundle(&args.bundle)?;
    let report = diagnose::diagnose(&bundle, &settings);
    crate::report_out::print_report(&report, args.output)?;
    Ok(crate::report_out::exit_code(&report, false))
}
