//! Times the phases of `analyze` on one capture (a profiling aid).
fn main() {
    let path = std::env::args().nth(1).expect("usage: phases FILE");
    let t0 = std::time::Instant::now();
    let mut r = ikediag::capture::CaptureReader::open(std::path::Path::new(&path)).expect("open");
    let a = ikediag::session::analyze_reader(&mut r, Default::default());
    let t1 = std::time::Instant::now();
    let rep = ikediag::report::build(&path, &a, &Default::default());
    let t2 = std::time::Instant::now();
    let json = serde_json::to_string_pretty(&rep).expect("json");
    let t3 = std::time::Instant::now();
    eprintln!(
        "decode+session {:?}, rules+report {:?}, json {:?} ({} bytes), {} findings",
        t1 - t0,
        t2 - t1,
        t3 - t2,
        json.len(),
        rep.findings.len()
    );
}
