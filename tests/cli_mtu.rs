//! `ikediag mtu`: the calculator's numbers (checked against `docs/mtu.md`),
//! its JSON fields, and a help text that carries the examples.

use std::process::Command;

fn mtu(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ikediag"))
        .arg("mtu")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run ikediag");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn worked_examples() {
    let j = mtu(&["--path-mtu", "1454", "--natt", "--esp", "aes256-sha256"]);
    assert_eq!(j["tunnel_mtu"], 1374);
    assert_eq!(j["tcp_mss_ipv4"], 1334);
    assert_eq!(j["tcp_mss_ipv6"], 1314);
    assert!(
        j["overhead"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "UDP header (NAT-T, RFC 3948)" && f["bytes"] == 8)
    );
    assert_eq!(mtu(&["--ping-payload", "1472"])["path_mtu"], 1500);
    assert_eq!(mtu(&["--ping-payload", "1252"])["path_mtu"], 1280);
    assert_eq!(mtu(&["--access", "pppoe"])["path_mtu"], 1492);
    assert_eq!(mtu(&["--access", "map-e"])["path_mtu"], 1460);
    assert_eq!(
        mtu(&["--path-mtu", "1500", "--esp", "aes128gcm16"])["tunnel_mtu"],
        1446
    );
    assert_eq!(
        mtu(&["--path-mtu", "1500", "--natt", "--esp", "3des-sha1"])["tunnel_mtu"],
        1438
    );
    assert_eq!(
        mtu(&[
            "--path-mtu",
            "1500",
            "--natt",
            "--esp",
            "aes128-sha1",
            "--mode",
            "l2tp"
        ])["tunnel_mtu"],
        1402
    );
}

#[test]
fn commands_carry_the_numbers() {
    let j = mtu(&["--path-mtu", "1454", "--natt"]);
    let all = serde_json::to_string(&j["commands"]).unwrap();
    for want in [
        "mtu=1374",
        "--set-mss 1334",
        "new-mss=1334",
        "ip tunnel tcp mss limit 1334",
        "ip tcp adjust-mss 1334",
        "--dir in",
        "--dir out",
    ] {
        assert!(all.contains(want), "missing {want}");
    }
}

#[test]
fn help_shows_how_and_errors_are_clear() {
    let out = Command::new(env!("CARGO_BIN_EXE_ikediag"))
        .args(["mtu", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for want in [
        "--path-mtu 1454 --natt --esp aes256-sha256",
        "ping -f -l",
        "pppoe",
        "aes128gcm16",
    ] {
        assert!(help.contains(want), "help lacks {want}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ikediag"))
        .args(["mtu", "--esp", "rot13-md5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown ESP cipher suite"));
}
