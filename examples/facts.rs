//! Prints the session facts of a capture as JSON (a debugging aid).
fn main() {
    let path = std::env::args().nth(1).expect("usage: facts FILE");
    let mut r = ikediag::capture::CaptureReader::open(std::path::Path::new(&path)).expect("open");
    let a = ikediag::session::analyze_reader(&mut r, Default::default());
    println!("{}", serde_json::to_string_pretty(&a).expect("json"));
}
