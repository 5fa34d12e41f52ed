//! The `ikediag` command line: parses flags into plain values and calls the
//! library. Nothing below this file reads flags or the wall clock.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use ikediag::capture::CaptureReader;
use ikediag::decode::{DecodeConfig, decode_capture};
use ikediag::diag::{self, RuleSelection};
use ikediag::messages::{MessageCollector, render_table, write_json_lines};
use ikediag::mtu;
use ikediag::report;

/// Tells you why an IPsec VPN does not connect, from a packet capture.
#[derive(Parser, Debug)]
#[command(name = "ikediag", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Diagnose why the VPN in a capture does (not) connect.
    ///
    /// Prints a verdict, findings with Wireshark frame numbers and display
    /// filters, each IKE SA's exchanges, and the fixes. Exit status: 0 no
    /// Error finding, 1 at least one Error finding, 2 the tool failed (for
    /// example the capture could not be read to the end).
    Analyze {
        /// Capture files (pcap or pcapng, optionally gzip or zstd compressed); `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format (default: from the -o file's extension, else text).
        #[arg(long, value_enum)]
        format: Option<ReportFormat>,
        /// Write the report to this file (.json, .md, .html or .txt picks the format).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Language of the report: en or ja (default: from LC_ALL / LC_MESSAGES / LANG).
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
        /// Replace IP addresses (prefix-preserving, documentation ranges) and the file name.
        #[arg(long)]
        redact: bool,
        /// Colour: auto (a terminal without NO_COLOR), always, never.
        #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
        color: ColorArg,
        /// Only these rules (codes or names, comma-separated or repeated).
        #[arg(long, value_delimiter = ',')]
        select: Vec<String>,
        /// Skip these rules (codes or names, comma-separated or repeated).
        #[arg(long, value_delimiter = ',')]
        ignore: Vec<String>,
        /// Extra UDP/TCP ports that carry IKE with the non-ESP marker (like 4500).
        #[arg(long = "port", value_name = "PORT")]
        ports: Vec<u16>,
        /// Width of the text tables (default: the terminal's, or 120).
        #[arg(long)]
        width: Option<u16>,
        /// Wireshark key table (ikev2_decryption_table, ikev1_decryption_table, esp_sa); repeatable.
        /// Tables beside the capture with the same stem are used too (see --no-auto-keys).
        #[arg(long = "keys", value_name = "FILE")]
        keys: Vec<PathBuf>,
        /// Do not pick up key tables found beside the capture.
        #[arg(long)]
        no_auto_keys: bool,
    },
    /// Compute the tunnel MTU and TCP MSS for a path and an IPsec setup, with the commands that set them.
    ///
    /// Give the path MTU (--path-mtu), or the access line (--access), or the
    /// largest DF ping payload that got an answer (--ping-payload: the -l value
    /// of Windows `ping -f -l N`, the -s value of Linux `ping -M do -s N`).
    /// Write the ESP proposal as in strongSwan, so it can be pasted from the
    /// config: aes256-sha256, aes128-sha1, 3des-sha1, aes128gcm16, aes256gcm8,
    /// chacha20poly1305, null-sha256.
    ///
    /// Examples:
    ///   ikediag mtu --path-mtu 1454 --natt --esp aes256-sha256
    ///   ikediag mtu --access pppoe --natt --esp aes128gcm16
    ///   ikediag mtu --ping-payload 1252 --natt
    ///   ikediag mtu --access map-e --mode l2tp --natt --esp aes128-sha1
    #[command(verbatim_doc_comment)]
    Mtu {
        /// The path MTU in bytes (the largest IP packet the path carries).
        #[arg(long, conflicts_with_all = ["access", "ping_payload"])]
        path_mtu: Option<u32>,
        /// The access line, when the path MTU is not known: ethernet (1500), pppoe (1492),
        /// map-e / ds-lite IPv4-in-IPv6 (1460), pppoe-map-e (1452).
        #[arg(long, value_enum, conflicts_with = "ping_payload")]
        access: Option<AccessArg>,
        /// The largest payload of a DF ping that was answered (ping -f -l N / ping -M do -s N).
        #[arg(long)]
        ping_payload: Option<u32>,
        /// The ping was IPv6 (payload + 48 instead of + 28).
        #[arg(long, requires = "ping_payload")]
        ping_ipv6: bool,
        /// NAT traversal: ESP in UDP 4500 (on whenever a NAT is in the path).
        #[arg(long)]
        natt: bool,
        /// The ESP proposal, strongSwan style.
        #[arg(long, default_value = "aes256-sha256")]
        esp: String,
        /// What the tunnel carries.
        #[arg(long, value_enum, default_value_t = ModeArg::Tunnel)]
        mode: ModeArg,
        /// The outer (Internet-facing) addresses are IPv6.
        #[arg(long)]
        outer_ipv6: bool,
        /// ESP over TCP (RFC 8229).
        #[arg(long)]
        tcp: bool,
        /// An Authentication Header (AH, RFC 4302) is used as well.
        #[arg(long)]
        ah: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = AnalyzeFormat::Text)]
        format: AnalyzeFormat,
    },
    /// Scan directories of captures (recursively, in parallel) and summarise the fleet.
    ///
    /// Captures are recognised by their magic bytes (pcap, pcapng, gzip,
    /// zstd); other files are listed as skipped with the reason. A file that
    /// cannot be read never stops the batch. Exit status: 0 no Error finding,
    /// 1 some capture has an Error finding, 2 some file could not be read.
    ///
    /// Examples:
    ///   ikediag scan /var/captures
    ///   ikediag scan -j 2 --format ndjson archive/ > results.ndjson
    ///   ikediag scan --shard 3/8 --format ndjson archive/ > part3.ndjson   (then: ikediag merge part*.ndjson)
    #[command(verbatim_doc_comment)]
    Scan {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
        /// Output: text (per-file lines and the fleet summary), ndjson (one line per
        /// file as it completes: unordered), markdown or html (the fleet summary).
        #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
        format: ScanFormat,
        /// Only shard K of N (1-based) of the sorted file list: K/N.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Add each file's SHA-256 to the NDJSON lines.
        #[arg(long)]
        sha256: bool,
        /// Put each file's full report (analyze --format json) in its NDJSON line.
        #[arg(long)]
        full: bool,
        /// Write to this file instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Wireshark key table used for every file; repeatable (tables beside
        /// each capture with its stem are used too, see --no-auto-keys).
        #[arg(long = "keys", value_name = "FILE")]
        keys: Vec<PathBuf>,
        /// Do not pick up key tables found beside each capture.
        #[arg(long)]
        no_auto_keys: bool,
    },
    /// Merge NDJSON results of scans (e.g. shards) into one fleet summary.
    Merge {
        /// NDJSON files written by `ikediag scan --format ndjson`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = MergeFormat::Text)]
        format: MergeFormat,
    },
    /// List the diagnosis rules, or print one rule's documentation.
    Rules {
        /// A rule code (NET006) or name (mtu-blackhole).
        rule: Option<String>,
        /// Language: en or ja (default: from LC_ALL / LC_MESSAGES / LANG).
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
    },
    /// List every IKE message (after IP reassembly), one row per message.
    ///
    /// Frame numbers are Wireshark's: a message that was IP-fragmented is
    /// shown at the frame of its last fragment, as Wireshark shows it.
    Messages {
        /// Capture files (pcap or pcapng, optionally gzip or zstd compressed); `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = MessagesFormat::Table)]
        format: MessagesFormat,
        /// Extra UDP/TCP ports that carry IKE with the non-ESP marker (like 4500).
        #[arg(long = "port", value_name = "PORT")]
        ports: Vec<u16>,
        /// Decrypt with the keys (`--keys`, and key tables beside the
        /// capture) and show the inner payloads in braces (JSON:
        /// `decrypted`, `decrypt_error`).
        #[arg(long)]
        decrypt: bool,
        /// Key table (Wireshark ikev2/ikev1_decryption_table, esp_sa, or
        /// tcpdump secrets); repeatable. Implies --decrypt.
        #[arg(long = "keys", value_name = "FILE")]
        keys: Vec<PathBuf>,
        /// Do not pick up key tables beside the capture.
        #[arg(long)]
        no_auto_keys: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ReportFormat {
    Text,
    Json,
    Markdown,
    Html,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ScanFormat {
    Text,
    Ndjson,
    Markdown,
    Html,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum MergeFormat {
    Text,
    Json,
    Markdown,
    Html,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum LangArg {
    En,
    Ja,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum AccessArg {
    Ethernet,
    Pppoe,
    #[value(alias = "ds-lite", alias = "mape", alias = "v6plus")]
    MapE,
    PppoeMapE,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ModeArg {
    Tunnel,
    Transport,
    L2tp,
    Gre,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum AnalyzeFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum MessagesFormat {
    Table,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze {
            files,
            lang,
            format,
            output,
            redact,
            color,
            select,
            ignore,
            ports,
            width,
            keys,
            no_auto_keys,
        } => {
            let ext = output
                .as_ref()
                .and_then(|o| o.extension())
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            let format = format.unwrap_or(match ext.as_deref() {
                Some("json") => ReportFormat::Json,
                Some("md" | "markdown") => ReportFormat::Markdown,
                Some("html" | "htm") => ReportFormat::Html,
                _ => ReportFormat::Text,
            });
            let lang = lang_of(lang);
            let opts = AnalyzeOptions {
                lang,
                format,
                output,
                redact,
                color,
                width,
                keys: ikediag::session::KeySource::new(&keys, !no_auto_keys),
            };
            analyze(&files, &opts, RuleSelection { select, ignore }, ports)
        }
        Command::Scan {
            paths,
            jobs,
            format,
            shard,
            sha256,
            full,
            output,
            keys,
            no_auto_keys,
        } => scan_command(
            &paths,
            jobs,
            format,
            shard.as_deref(),
            ikediag::scan::ScanOptions {
                sha256,
                full_report: full,
                keys: ikediag::session::KeySource::new(&keys, !no_auto_keys),
                ..Default::default()
            },
            output.as_deref(),
        ),
        Command::Merge { files, format } => merge_command(&files, format),
        Command::Rules { rule, lang } => rules(rule.as_deref(), lang_of(lang) == report::Lang::Ja),
        Command::Mtu {
            path_mtu,
            access,
            ping_payload,
            ping_ipv6,
            natt,
            esp,
            mode,
            outer_ipv6,
            tcp,
            ah,
            format,
        } => {
            let (path, source) = match (path_mtu, access, ping_payload) {
                (Some(p), _, _) => (p, "given".to_string()),
                (None, Some(a), _) => {
                    let acc = match a {
                        AccessArg::Ethernet => mtu::Access::Ethernet,
                        AccessArg::Pppoe => mtu::Access::Pppoe,
                        AccessArg::MapE => mtu::Access::MapE,
                        AccessArg::PppoeMapE => mtu::Access::PppoeMapE,
                    };
                    (acc.path_mtu(), format!("{a:?} access").to_lowercase())
                }
                (None, None, Some(p)) => (
                    mtu::path_mtu_from_ping_payload(p, ping_ipv6),
                    format!(
                        "a DF ping payload of {p} bytes + 8 (ICMP header) + {} ({} header)",
                        if ping_ipv6 { 40 } else { 20 },
                        if ping_ipv6 { "IPv6" } else { "IPv4" }
                    ),
                ),
                (None, None, None) => (
                    1500,
                    "Ethernet default; give --path-mtu, --access or --ping-payload".to_string(),
                ),
            };
            mtu_command(
                path,
                source,
                natt,
                &esp,
                mode,
                (outer_ipv6, tcp, ah),
                format,
            )
        }
        Command::Messages {
            files,
            format,
            ports,
            decrypt,
            keys,
            no_auto_keys,
        } => {
            let keys = (decrypt || !keys.is_empty())
                .then(|| ikediag::session::KeySource::new(&keys, !no_auto_keys));
            messages(&files, format, ports, keys.as_ref())
        }
    }
}

fn messages(
    files: &[PathBuf],
    format: MessagesFormat,
    ports: Vec<u16>,
    keys: Option<&ikediag::session::KeySource>,
) -> ExitCode {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut failed = false;
    for path in files {
        let mut reader = match CaptureReader::open(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("ikediag: {e}");
                failed = true;
                continue;
            }
        };
        let mut sink = MessageCollector::default();
        // The listing shows every frame, copies included, as tshark does.
        let config = DecodeConfig {
            extra_ports: ports.clone(),
            keep_duplicates: true,
            ..DecodeConfig::default()
        };
        let (stats, err) = decode_capture(&mut reader, config.clone(), &mut sink);
        if let Some(keys) = keys {
            // A second pass through the session layer, which holds the
            // decryption state (IKEv1 IV chains, RFC 7383 fragments).
            if path == std::path::Path::new("-") {
                eprintln!("ikediag: --decrypt needs a capture file, not standard input");
                failed = true;
            } else if let Ok(mut again) = CaptureReader::open(path) {
                let a = ikediag::session::analyze_with(&mut again, config, keys.builder_for(path));
                ikediag::messages::attach_decryption(&mut sink.records, &a);
            }
        }
        let res = match format {
            MessagesFormat::Json => write_json_lines(&mut out, &sink.records),
            MessagesFormat::Table => {
                if files.len() > 1 {
                    let _ = writeln!(out, "{}:", path.display());
                }
                let first = stats.first_ts_ns.map(|t| t as f64 / 1e9);
                writeln!(out, "{}", render_table(&sink.records, first)).and_then(|_| {
                    writeln!(
                        out,
                        "{} IKE messages in {} frames{}",
                        sink.records.len(),
                        stats.frames,
                        if stats.incomplete_fragment_sets > 0 {
                            format!(
                                ", {} incomplete IP fragment sets",
                                stats.incomplete_fragment_sets
                            )
                        } else {
                            String::new()
                        }
                    )
                })
            }
        };
        if let Err(e) = res.and_then(|_| out.flush()) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("ikediag: writing output: {e}");
            return ExitCode::from(2);
        }
        if let Some(e) = err {
            eprintln!(
                "ikediag: {e} (the {} frames before it were analysed)",
                stats.frames
            );
            failed = true;
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w: &u16| *w >= 60)
        .unwrap_or(120)
}

/// `--lang`, else the locale (LC_ALL, LC_MESSAGES, LANG).
fn lang_of(arg: Option<LangArg>) -> report::Lang {
    match arg {
        Some(LangArg::En) => report::Lang::En,
        Some(LangArg::Ja) => report::Lang::Ja,
        None => report::Lang::from_locale(
            std::env::var("LC_ALL").ok().as_deref(),
            std::env::var("LC_MESSAGES").ok().as_deref(),
            std::env::var("LANG").ok().as_deref(),
        ),
    }
}

struct AnalyzeOptions {
    lang: report::Lang,
    format: ReportFormat,
    output: Option<PathBuf>,
    redact: bool,
    color: ColorArg,
    width: Option<u16>,
    keys: ikediag::session::KeySource,
}

fn analyze(
    files: &[PathBuf],
    opts: &AnalyzeOptions,
    sel: RuleSelection,
    ports: Vec<u16>,
) -> ExitCode {
    let unknown = sel.unknown();
    if !unknown.is_empty() {
        eprintln!(
            "ikediag: unknown rule(s): {} (see `ikediag rules`)",
            unknown.join(", ")
        );
        return ExitCode::from(2);
    }
    let to_terminal = opts.output.is_none() && io::stdout().is_terminal();
    let color = match opts.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let width = opts
        .width
        .or_else(|| {
            if to_terminal {
                report::text::terminal_width()
            } else {
                None
            }
        })
        .unwrap_or_else(terminal_width);
    let mut text = String::new();
    let mut tool_failed = false;
    let mut any_error = false;
    for path in files {
        let mut reader = match CaptureReader::open(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("ikediag: {e}");
                tool_failed = true;
                continue;
            }
        };
        let config = DecodeConfig {
            extra_ports: ports.clone(),
            ..DecodeConfig::default()
        };
        let mut rep = report::of_capture(path, &mut reader, config, &opts.keys, &sel);
        if let Some(e) = &rep.capture.read_error {
            eprintln!(
                "ikediag: {e} (the {} frames before it were analysed)",
                rep.capture.frames
            );
            tool_failed = true;
        }
        if opts.redact {
            report::redact::Redactor::new().report(&mut rep);
        }
        any_error |= rep.has_error();
        match opts.format {
            ReportFormat::Json => match serde_json::to_string_pretty(&rep) {
                Ok(j) => {
                    text.push_str(&j);
                    text.push('\n');
                }
                Err(e) => {
                    eprintln!("ikediag: {e}");
                    return ExitCode::from(2);
                }
            },
            ReportFormat::Markdown => {
                text.push_str(&report::markdown::render_lang(&rep, opts.lang))
            }
            ReportFormat::Html => text.push_str(&report::html::render_lang(&rep, opts.lang)),
            ReportFormat::Text => {
                text.push_str(&report::text::render_styled(&rep, width, color, opts.lang))
            }
        }
    }
    let res = match &opts.output {
        Some(f) => std::fs::write(f, &text),
        None => {
            let stdout = io::stdout();
            let mut out = stdout.lock();
            out.write_all(text.as_bytes()).and_then(|_| out.flush())
        }
    };
    if let Err(e) = res
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("ikediag: writing the report: {e}");
        return ExitCode::from(2);
    }
    if tool_failed {
        ExitCode::from(2)
    } else if any_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn rules(name: Option<&str>, ja: bool) -> ExitCode {
    match name {
        None => {
            for r in diag::rules::ALL {
                println!(
                    "{:<7} {:<28} {:<8} {}",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    r.summary
                );
            }
            ExitCode::SUCCESS
        }
        Some(n) => match diag::find_rule(n) {
            Some(r) => {
                print!("{}", diag::rule_markdown_lang(r, ja));
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("ikediag: no rule {n:?} (see `ikediag rules`)");
                ExitCode::from(2)
            }
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn mtu_command(
    path: u32,
    source: String,
    natt: bool,
    esp: &str,
    mode: ModeArg,
    (outer_ipv6, tcp, ah): (bool, bool, bool),
    format: AnalyzeFormat,
) -> ExitCode {
    let suite = match mtu::CipherSuite::parse(esp) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ikediag: {e}");
            return ExitCode::from(2);
        }
    };
    let enc = mtu::Encapsulation {
        mode: match mode {
            ModeArg::Tunnel => mtu::Mode::Tunnel,
            ModeArg::Transport => mtu::Mode::Transport,
            ModeArg::L2tp => mtu::Mode::L2tp,
            ModeArg::Gre => mtu::Mode::Gre,
        },
        natt,
        outer_ipv6,
        tcp,
        ah,
        suite,
    };
    let Some(calc) = mtu::Calculation::new(path, source, enc) else {
        eprintln!("ikediag: a path MTU of {path} bytes is too small to carry this encapsulation");
        return ExitCode::from(2);
    };
    match format {
        AnalyzeFormat::Json => match serde_json::to_string_pretty(&calc) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("ikediag: {e}");
                return ExitCode::from(2);
            }
        },
        AnalyzeFormat::Text => print!("{}", calc.render_text()),
    }
    ExitCode::SUCCESS
}

#[allow(clippy::too_many_arguments)]
fn scan_command(
    paths: &[PathBuf],
    jobs: Option<usize>,
    format: ScanFormat,
    shard: Option<&str>,
    mut opts: ikediag::scan::ScanOptions,
    output: Option<&std::path::Path>,
) -> ExitCode {
    use ikediag::scan;
    use rayon::prelude::*;
    use std::sync::Mutex;

    let (mut files, walk_errors) = scan::collect(paths);
    if let Some(sh) = shard {
        let Some((k, n)) = scan::parse_shard(sh) else {
            eprintln!("ikediag: --shard takes K/N with 1 <= K <= N, e.g. 3/8");
            return ExitCode::from(2);
        };
        files = scan::shard(files, k, n);
    }
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("ikediag: {e}");
            return ExitCode::from(2);
        }
    };
    opts.full_report &= format == ScanFormat::Ndjson;
    let total_bytes: u64 = files.iter().map(|(_, size)| size).sum();
    let bar = if io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(total_bytes);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::atomic::AtomicUsize::new(0);
    let nfiles = files.len();
    let sink: Mutex<Box<dyn Write + Send>> = Mutex::new(match output {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("ikediag: {}: {e}", p.display());
                return ExitCode::from(2);
            }
        },
        None => Box::new(io::BufWriter::new(io::stdout())),
    });
    let one = |(p, size): &(PathBuf, u64)| {
        let mut e = scan::scan_file(p, *size, &opts);
        bar.inc(e.size);
        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if !e.error_rules.is_empty() || e.kind != "capture" {
            failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        bar.set_message(format!(
            "{d}/{nfiles} files, {} with failures",
            failures.load(std::sync::atomic::Ordering::Relaxed)
        ));
        if format == ScanFormat::Ndjson {
            if let Ok(line) = serde_json::to_string(&e)
                && let Ok(mut w) = sink.lock()
            {
                let _ = writeln!(w, "{line}");
            }
            e.report = None; // keep memory flat: only the summary stays
        }
        e
    };
    let mut entries: Vec<scan::FileEntry> = pool.install(|| files.par_iter().map(one).collect());
    bar.finish_and_clear();
    for (p, err) in walk_errors {
        entries.push(scan::FileEntry {
            path: p.display().to_string(),
            kind: "unreadable".into(),
            error: Some(err),
            ..Default::default()
        });
    }
    let fleet = scan::Fleet::from_entries(&entries);
    let text = match format {
        ScanFormat::Ndjson => String::new(),
        ScanFormat::Text => {
            let mut s = String::new();
            for e in &entries {
                let what = match (e.kind.as_str(), &e.outcome) {
                    ("skipped", _) => format!("skipped: {}", e.error.clone().unwrap_or_default()),
                    (_, None) => format!("unreadable: {}", e.error.clone().unwrap_or_default()),
                    (_, Some(o)) => format!(
                        "{}{}{}",
                        o.to_uppercase(),
                        e.failed_exchange
                            .as_ref()
                            .map(|x| format!(" at {x}"))
                            .unwrap_or_default(),
                        if e.error_rules.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", e.error_rules.join(", "))
                        }
                    ),
                };
                s.push_str(&format!("{}: {what}\n", e.path));
            }
            s.push('\n');
            s.push_str(&fleet.render_text());
            s
        }
        ScanFormat::Markdown => fleet.render_markdown(),
        ScanFormat::Html => fleet.render_html(),
    };
    if let Ok(mut w) = sink.lock() {
        let _ = w.write_all(text.as_bytes());
        let _ = w.flush();
    }
    fleet_exit(&fleet, &entries)
}

fn merge_command(files: &[PathBuf], format: MergeFormat) -> ExitCode {
    use ikediag::scan;
    let mut entries = Vec::new();
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("ikediag: {}: {e}", f.display());
                return ExitCode::from(2);
            }
        };
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            match serde_json::from_str::<scan::FileEntry>(line) {
                Ok(mut e) => {
                    e.report = None;
                    entries.push(e);
                }
                Err(err) => {
                    eprintln!("ikediag: {}: line {}: {err}", f.display(), i + 1);
                    return ExitCode::from(2);
                }
            }
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries.dedup_by(|a, b| a.path == b.path);
    let fleet = scan::Fleet::from_entries(&entries);
    let out = match format {
        MergeFormat::Text => fleet.render_text(),
        MergeFormat::Markdown => fleet.render_markdown(),
        MergeFormat::Html => fleet.render_html(),
        MergeFormat::Json => serde_json::to_string_pretty(&fleet).unwrap_or_default() + "\n",
    };
    print!("{out}");
    fleet_exit(&fleet, &entries)
}

/// 2 when a file could not be read, 1 when a capture has an Error finding.
fn fleet_exit(fleet: &ikediag::scan::Fleet, entries: &[ikediag::scan::FileEntry]) -> ExitCode {
    if !fleet.unreadable.is_empty() {
        ExitCode::from(2)
    } else if entries.iter().any(|e| !e.error_rules.is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
