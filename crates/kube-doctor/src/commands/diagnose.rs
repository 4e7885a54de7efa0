//! `kube-doctor diagnose BUNDLE`: the diagnosis of a saved bundle, without any network. Exit 1
//! when a problem is diagnosed, 0 when none, 2 when the bundle cannot be read.

use std::process::ExitCode;

use kube_doctor_core::diagnose::{self, Windows};

use crate::cli::{DiagnoseArgs, WindowArgs};

pub fn windows(w: &WindowArgs) -> Windows {
    let d = |x: std::time::Duration| {
        jiff::SignedDuration::try_from(x).unwrap_or(jiff::SignedDuration::from_mins(5))
    };
    Windows {
        server: d(w.server_window),
        auth: d(w.auth_window),
        apf: d(w.apf_window),
        network: d(w.network_window),
    }
}

pub fn run(args: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    let bundle = crate::report_out::read_bundle(&args.bundle)?;
    let report = diagnose::diagnose(&bundle, windows(&args.windows));
    crate::report_out::print_report(&report, args.output)?;
    Ok(if report.problem_found() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
