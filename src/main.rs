//! The `ikediag` command line: parses flags into plain values and calls the
//! library. Nothing below this file reads flags or the wall clock.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use ikediag::capture::CaptureReader;
use ikediag::decode::{DecodeConfig, decode_capture};
use ikediag::messages::{MessageCollector, render_table, write_json_lines};

/// Tells you why an IPsec VPN does not connect, from a packet capture.
#[derive(Parser, Debug)]
#[command(name = "ikediag", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum MessagesFormat {
    Table,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Messages {
            files,
            format,
            ports,
        } => messages(&files, format, ports),
    }
}

fn messages(files: &[PathBuf], format: MessagesFormat, ports: Vec<u16>) -> ExitCode {
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
        let config = DecodeConfig {
            extra_ports: ports.clone(),
            ..DecodeConfig::default()
        };
        let (stats, err) = decode_capture(&mut reader, config, &mut sink);
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
    let _ = io::stderr().is_terminal();
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
