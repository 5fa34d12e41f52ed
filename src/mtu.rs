//! The IPsec overhead model: how many bytes each layer adds, and from that
//! the largest inner packet that fits a path MTU (the tunnel MTU) and the
//! TCP MSS to clamp to.
//!
//! Contract: pure arithmetic, no capture data. Every figure is derived in
//! the comments from the RFC that defines the field; `docs/mtu.md` carries
//! the same derivation with worked examples that the unit tests check.
//!
//! ESP (RFC 4303 section 2): SPI (4) + sequence number (4) + IV (cipher
//! dependent) + payload + padding + pad length (1) + next header (1) + ICV.
//! The padding makes payload + 2 a multiple of the cipher's block size
//! (at least 4, RFC 4303 section 2.4), so the largest payload that fits
//! `avail` bytes is `floor(avail / block) * block - 2`.
//! NAT-T adds a UDP header (8, RFC 3948); the outer IP header is 20 (IPv4)
//! or 40 (IPv6). Transport mode keeps the original IP header outside.

use serde::Serialize;

/// An ESP cipher suite, as strongSwan writes proposals
/// (`aes256-sha256`, `aes128gcm16`, `3des-sha1`, `chacha20poly1305`, `null-sha1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CipherSuite {
    /// The name as given or derived.
    pub name: String,
    /// Encryption algorithm, human readable.
    pub encryption: String,
    /// Integrity algorithm, human readable ("none" for AEAD).
    pub integrity: String,
    /// Explicit IV bytes carried in each packet.
    pub iv: u32,
    /// Padding block size (4 for stream and AEAD modes).
    pub block: u32,
    /// Integrity check value bytes.
    pub icv: u32,
}

/// Why a suite string was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown ESP cipher suite {0:?}: write it as in strongSwan, e.g. aes256-sha256, aes128gcm16, 3des-sha1, chacha20poly1305"
)]
pub struct UnknownSuite(pub String);

impl CipherSuite {
    /// Parses a strongSwan-style ESP proposal (the DH/PFS part, if any, is ignored).
    pub fn parse(s: &str) -> Result<Self, UnknownSuite> {
        let lower = s.trim().to_ascii_lowercase();
        let mut enc: Option<(String, u32, u32, Option<u32>)> = None; // name, iv, block, aead icv
        let mut integ: Option<(String, u32)> = None;
        for part in lower.split('-') {
            let p = part.trim();
            if p.is_empty()
                || p.starts_with("modp")
                || p.starts_with("ecp")
                || p.starts_with("curve")
                || p.starts_with("x25519")
                || p.starts_with("x448")
                || p == "esn"
                || p == "noesn"
            {
                continue;
            }
            if enc.is_none()
                && let Some(e) = parse_encryption(p)
            {
                enc = Some(e);
                continue;
            }
            if integ.is_none()
                && let Some(i) = parse_integrity(p)
            {
                integ = Some(i);
                continue;
            }
            return Err(UnknownSuite(s.to_string()));
        }
        let Some((ename, iv, block, aead_icv)) = enc else {
            return Err(UnknownSuite(s.to_string()));
        };
        let (iname, icv) = match (aead_icv, integ) {
            (Some(icv), None) => ("none (AEAD)".to_string(), icv),
            (Some(_), Some(_)) => return Err(UnknownSuite(s.to_string())),
            (None, Some(i)) => i,
            // strongSwan's default integrity for a bare cipher is SHA2-256.
            (None, None) => ("HMAC-SHA2-256-128".to_string(), 16),
        };
        Ok(CipherSuite {
            name: lower,
            encryption: ename,
            integrity: iname,
            iv,
            block,
            icv,
        })
    }
}

/// (name, IV, block, AEAD ICV).
fn parse_encryption(p: &str) -> Option<(String, u32, u32, Option<u32>)> {
    let cbc = |bits: &str| Some((format!("AES-CBC-{bits}"), 16, 16, None));
    match p {
        "aes" | "aes128" => cbc("128"),
        "aes192" => cbc("192"),
        "aes256" => cbc("256"),
        "3des" => Some(("3DES-CBC".into(), 8, 8, None)),
        "des" => Some(("DES-CBC".into(), 8, 8, None)),
        "null" => Some(("NULL".into(), 0, 4, None)),
        "chacha20poly1305" => Some(("ChaCha20-Poly1305".into(), 8, 4, Some(16))),
        _ => {
            // aes128ctr / aes256ctr
            if let Some(bits) = p.strip_prefix("aes").and_then(|r| r.strip_suffix("ctr")) {
                let bits = if bits.is_empty() { "128" } else { bits };
                return Some((format!("AES-CTR-{bits}"), 8, 4, None));
            }
            // aes128gcm16, aes256gcm8, aes128gcm12, aes256gcm (=16)
            let (bits, icv) = p.strip_prefix("aes")?.split_once("gcm")?;
            let bits = if bits.is_empty() { "128" } else { bits };
            let icv: u32 = match icv {
                "" | "16" | "128" => 16,
                "12" | "96" => 12,
                "8" | "64" => 8,
                _ => return None,
            };
            if !matches!(bits, "128" | "192" | "256") {
                return None;
            }
            Some((format!("AES-GCM-{bits} ({icv}-byte ICV)"), 8, 4, Some(icv)))
        }
    }
}

fn parse_integrity(p: &str) -> Option<(String, u32)> {
    Some(match p {
        "sha1" | "sha" => ("HMAC-SHA1-96".into(), 12),
        "md5" => ("HMAC-MD5-96".into(), 12),
        "sha256" | "sha2_256" => ("HMAC-SHA2-256-128".into(), 16),
        "sha384" | "sha2_384" => ("HMAC-SHA2-384-192".into(), 24),
        "sha512" | "sha2_512" => ("HMAC-SHA2-512-256".into(), 32),
        "sha256_96" => ("HMAC-SHA2-256-96".into(), 12),
        "aesxcbc" => ("AES-XCBC-96".into(), 12),
        "noint" | "none" => ("none".into(), 0),
        _ => return None,
    })
}

/// What carries the inner packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// ESP tunnel mode: the whole inner IP packet is the ESP payload.
    Tunnel,
    /// ESP transport mode: the original IP header stays outside.
    Transport,
    /// L2TP/IPsec: PPP in L2TP in UDP 1701, in ESP transport mode.
    L2tp,
    /// GRE over IPsec (ESP transport mode around GRE).
    Gre,
}

/// The whole encapsulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Encapsulation {
    pub mode: Mode,
    /// UDP encapsulation (NAT-T, RFC 3948).
    pub natt: bool,
    /// Outer IP version (4 or 6).
    pub outer_ipv6: bool,
    /// ESP over TCP (RFC 8229): TCP header with timestamps + 2-byte length.
    pub tcp: bool,
    /// An Authentication Header (RFC 4302) as well: 12 bytes plus an ICV
    /// (the suite's, or HMAC-SHA2-256-128 for an AEAD suite), padded to
    /// 4 bytes (IPv4) or 8 (IPv6).
    pub ah: bool,
    pub suite: CipherSuite,
}

/// One line of the overhead breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverheadField {
    pub field: String,
    pub bytes: u32,
}

/// The result of the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TunnelLimits {
    pub path_mtu: u32,
    /// Largest inner IP packet that fits without fragmentation.
    pub tunnel_mtu: u32,
    /// TCP MSS for inner IPv4 traffic (tunnel MTU - 40).
    pub tcp_mss_ipv4: u32,
    /// TCP MSS for inner IPv6 traffic (tunnel MTU - 60).
    pub tcp_mss_ipv6: u32,
    /// Per-packet overhead without the padding to the block size.
    pub fixed_overhead: u32,
    pub fields: Vec<OverheadField>,
}

/// Bytes between the ESP trailer's padding and the inner packet for each
/// mode: (label, bytes) items outside the padded region come first.
fn inner_headers(mode: Mode) -> Vec<(&'static str, u32)> {
    match mode {
        Mode::Tunnel | Mode::Transport => vec![],
        // RFC 2661: L2TP data header with the Length bit (8); PPP
        // address/control + protocol (4); UDP 1701 (8).
        Mode::L2tp => vec![
            ("UDP 1701 (L2TP)", 8),
            ("L2TP data header", 8),
            ("PPP header", 4),
        ],
        // RFC 2784: basic GRE header, no key or sequence (4).
        Mode::Gre => vec![("GRE header", 4)],
    }
}

impl Encapsulation {
    /// Bytes of the AH header, when there is one.
    pub fn ah_bytes(&self) -> u32 {
        if !self.ah {
            return 0;
        }
        let icv = if self.suite.integrity.starts_with("none") || self.suite.icv == 0 {
            16
        } else {
            self.suite.icv
        };
        let align = if self.outer_ipv6 { 8 } else { 4 };
        (12 + icv).div_ceil(align) * align
    }

    /// Computes the tunnel MTU and MSS for a path MTU. Returns `None` when
    /// the path is too small to carry anything.
    pub fn limits(&self, path_mtu: u32) -> Option<TunnelLimits> {
        let s = &self.suite;
        let mut fields = Vec::new();
        let ip = if self.outer_ipv6 { 40 } else { 20 };
        fields.push(OverheadField {
            field: format!(
                "outer {} header",
                if self.outer_ipv6 { "IPv6" } else { "IPv4" }
            ),
            bytes: ip,
        });
        if self.tcp {
            fields.push(OverheadField {
                field: "TCP header with timestamps (RFC 8229)".into(),
                bytes: 32,
            });
            fields.push(OverheadField {
                field: "RFC 8229 length field".into(),
                bytes: 2,
            });
        } else if self.natt {
            fields.push(OverheadField {
                field: "UDP header (NAT-T, RFC 3948)".into(),
                bytes: 8,
            });
        }
        let ah = self.ah_bytes();
        if ah > 0 {
            fields.push(OverheadField {
                field: "AH header + ICV (RFC 4302)".into(),
                bytes: ah,
            });
        }
        fields.push(OverheadField {
            field: "ESP SPI + sequence number".into(),
            bytes: 8,
        });
        if s.iv > 0 {
            fields.push(OverheadField {
                field: format!("{} IV", s.encryption),
                bytes: s.iv,
            });
        }
        let inner = inner_headers(self.mode);
        for (f, b) in &inner {
            fields.push(OverheadField {
                field: (*f).to_string(),
                bytes: *b,
            });
        }
        let inner_bytes: u32 = inner.iter().map(|(_, b)| b).sum();
        fields.push(OverheadField {
            field: "ESP pad length + next header".into(),
            bytes: 2,
        });
        if s.icv > 0 {
            fields.push(OverheadField {
                field: format!("ICV ({})", s.integrity),
                bytes: s.icv,
            });
        }
        let fixed: u32 = fields.iter().map(|f| f.bytes).sum();
        let transport = if self.tcp {
            34
        } else if self.natt {
            8
        } else {
            0
        };
        // Bytes left for the padded region (payload + padding + 2).
        let avail = path_mtu.checked_sub(ip + transport + ah + 8 + s.iv + s.icv)?;
        let esp_payload = (avail / s.block * s.block).checked_sub(2)?;
        let tunnel_mtu = match self.mode {
            Mode::Tunnel => esp_payload,
            // The packet's own IP header stays outside ESP.
            Mode::Transport => esp_payload + ip,
            // A whole inner IP packet follows the UDP/L2TP/PPP or GRE headers.
            Mode::L2tp | Mode::Gre => esp_payload.checked_sub(inner_bytes)?,
        };
        if tunnel_mtu < 68 {
            return None;
        }
        Some(TunnelLimits {
            path_mtu,
            tunnel_mtu,
            tcp_mss_ipv4: tunnel_mtu.saturating_sub(40),
            tcp_mss_ipv6: tunnel_mtu.saturating_sub(60),
            fixed_overhead: fixed,
            fields,
        })
    }
}

/// Access lines that lower the path MTU below the Ethernet 1500.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    Ethernet,
    /// PPPoE: 6-byte PPPoE + 2-byte PPP header (RFC 2516): 1492.
    Pppoe,
    /// IPv4-in-IPv6 (MAP-E, DS-Lite, "v6 plus"): 40-byte IPv6 header: 1460.
    MapE,
    /// PPPoE carrying IPv4-in-IPv6: 1452.
    PppoeMapE,
}

impl Access {
    pub fn path_mtu(self) -> u32 {
        match self {
            Access::Ethernet => 1500,
            Access::Pppoe => 1492,
            Access::MapE => 1460,
            Access::PppoeMapE => 1452,
        }
    }
}

/// Commands for one platform, as a user would type them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformCommands {
    pub platform: String,
    pub commands: Vec<String>,
}

fn pc(platform: &str, commands: Vec<String>) -> PlatformCommands {
    PlatformCommands {
        platform: platform.to_string(),
        commands,
    }
}

/// The smallest MTU an IPv6 link may have (RFC 8200 section 5): an
/// interface below it cannot carry IPv6 at all.
pub const IPV6_MIN_MTU: u32 = 1280;

/// TCP's default MSS, assumed when none is announced (RFC 9293 section
/// 3.7.1): 576 - 40. A clamp below it is legal but unusual, so it is
/// explained wherever it is printed.
pub const TCP_DEFAULT_MSS: u32 = 536;

impl TunnelLimits {
    /// The tunnel can carry inner IPv6 packets without fragmenting them.
    pub fn carries_ipv6(&self) -> bool {
        self.tunnel_mtu >= IPV6_MIN_MTU
    }
}

/// The commands that apply a tunnel MTU and TCP MSS clamping, per platform.
/// MSS clamping is given for both directions, as a VPN server needs. A
/// tunnel MTU below 1,280 is never given for IPv6 (no IPv6 interface can
/// have it: the commands say so instead), and an MSS below TCP's default
/// 536 comes with the reason.
pub fn apply_commands(l: &TunnelLimits) -> Vec<PlatformCommands> {
    let mtu = l.tunnel_mtu;
    let mss = l.tcp_mss_ipv4;
    let mss6 = l.tcp_mss_ipv6;
    let v6 = l.carries_ipv6();
    let windows_v6 = if v6 {
        format!(
            "netsh interface ipv6 set subinterface \"<VPN connection name>\" mtu={mtu} store=persistent"
        )
    } else {
        format!(
            "# IPv6 inside the tunnel: {mtu} is below the IPv6 minimum MTU of {IPV6_MIN_MTU} (RFC 8200), which no interface can have; \
             keep the IPv6 MTU at {IPV6_MIN_MTU}, clamp the IPv6 MSS to {mss6} on the server, and expect larger IPv6 packets to be fragmented outside the tunnel or lost"
        )
    };
    let small_mss = (mss < TCP_DEFAULT_MSS).then(|| {
        format!(
            "# {mss} is below TCP's default MSS of {TCP_DEFAULT_MSS} (RFC 9293) because the path leaves only {mtu} bytes inside the tunnel ({} for the path, minus the IPsec overhead)",
            l.path_mtu
        )
    });
    let v6_link_note = (!v6).then(|| {
        format!(
            "# below {IPV6_MIN_MTU}, Linux turns IPv6 off on the interface (RFC 8200 minimum): carry IPv6 over another one kept at {IPV6_MIN_MTU}"
        )
    });
    let with = |mut v: Vec<String>, note: &Option<String>| {
        v.extend(note.iter().cloned());
        v
    };
    vec![
        pc(
            "Windows client (elevated prompt)",
            vec![
                format!(
                    "netsh interface ipv4 set subinterface \"<VPN connection name>\" mtu={mtu} store=persistent"
                ),
                windows_v6,
                format!(
                    "# registry alternative: HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\\Interfaces\\{{<interface GUID>}} MTU (REG_DWORD) = {mtu}"
                ),
            ],
        ),
        pc(
            "Linux (nftables), both directions",
            with(
                vec![
                    format!(
                        "nft add rule inet filter forward meta ipsec exists tcp flags syn tcp option maxseg size set {mss}   # leaving the tunnel"
                    ),
                    format!(
                        "nft add rule inet filter forward rt ipsec exists tcp flags syn tcp option maxseg size set {mss}   # entering the tunnel"
                    ),
                    format!(
                        "# IPv6 inner traffic: the same two rules with meta nfproto ipv6 and {mss6}"
                    ),
                ],
                &small_mss,
            ),
        ),
        pc(
            "Linux (iptables), both directions",
            with(
                vec![
                    format!(
                        "iptables -t mangle -A FORWARD -m policy --pol ipsec --dir in -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss {mss}"
                    ),
                    format!(
                        "iptables -t mangle -A FORWARD -m policy --pol ipsec --dir out -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss {mss}"
                    ),
                    format!(
                        "ip6tables -t mangle -A FORWARD -m policy --pol ipsec --dir in -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss {mss6}"
                    ),
                    format!(
                        "ip6tables -t mangle -A FORWARD -m policy --pol ipsec --dir out -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss {mss6}"
                    ),
                ],
                &small_mss,
            ),
        ),
        pc(
            "strongSwan (route-based, XFRM interface or VTI)",
            with(
                vec![format!("ip link set dev <xfrm0 or vti0> mtu {mtu}")],
                &v6_link_note,
            ),
        ),
        pc(
            "libreswan (ipsec.conf)",
            vec![format!("conn <name>\n    mtu={mtu}")],
        ),
        pc(
            "MikroTik RouterOS",
            vec![
                format!(
                    "/ip firewall mangle add chain=forward protocol=tcp tcp-flags=syn ipsec-policy=out,ipsec action=change-mss new-mss={mss} passthrough=yes"
                ),
                format!(
                    "/ip firewall mangle add chain=forward protocol=tcp tcp-flags=syn ipsec-policy=in,ipsec action=change-mss new-mss={mss} passthrough=yes"
                ),
            ],
        ),
        pc(
            "Yamaha RTX (tunnel configuration)",
            vec![
                format!("ip tunnel mtu {mtu}"),
                format!("ip tunnel tcp mss limit {mss}"),
            ],
        ),
        pc(
            "Cisco IOS (tunnel interface)",
            vec![format!("ip mtu {mtu}"), format!("ip tcp adjust-mss {mss}")],
        ),
    ]
}

/// The path MTU a DF ping proves: the ICMP payload size plus the ICMP
/// header (8) and the IP header (20 for IPv4, 40 for IPv6).
pub fn path_mtu_from_ping_payload(payload: u32, ipv6: bool) -> u32 {
    payload + 8 + if ipv6 { 40 } else { 20 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(suite: &str, natt: bool) -> Encapsulation {
        Encapsulation {
            mode: Mode::Tunnel,
            natt,
            outer_ipv6: false,
            tcp: false,
            ah: false,
            suite: CipherSuite::parse(suite).unwrap(),
        }
    }

    #[test]
    fn pppoe_natt_aes256_sha256_gives_1374_and_1334() {
        // docs/mtu.md, example 1: 1454 - 20 - 8 - 8 - 16 - 16 = 1386 bytes
        // for the padded region; 1386 / 16 = 86 blocks = 1376; minus 2 = 1374.
        let l = enc("aes256-sha256", true).limits(1454).unwrap();
        assert_eq!(l.tunnel_mtu, 1374);
        assert_eq!(l.tcp_mss_ipv4, 1334);
        assert_eq!(l.tcp_mss_ipv6, 1314);
    }

    fn commands(l: &TunnelLimits) -> String {
        apply_commands(l)
            .iter()
            .flat_map(|p| p.commands.iter().cloned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn no_ipv6_mtu_below_1280_and_a_small_mss_says_why() {
        // 1500, AES-CBC-128 + SHA2-256, no NAT-T: 1500-20-8-16-16 = 1440 -> 1438.
        let l = enc("aes128-sha256", false).limits(1500).unwrap();
        let c = commands(&l);
        assert!(c.contains("ipv6 set subinterface \"<VPN connection name>\" mtu=1438"));
        assert!(!c.contains("RFC 8200") && !c.contains("RFC 9293"), "{c}");
        // 1280: 1280-20-8-16-16 = 1220 -> 1216 - 2 = 1214, too small for IPv6.
        let l = enc("aes128-sha256", false).limits(1280).unwrap();
        assert_eq!(l.tunnel_mtu, 1214);
        let c = commands(&l);
        assert!(
            !c.contains("ipv6 set subinterface \"<VPN connection name>\" mtu=1214"),
            "{c}"
        );
        assert!(
            c.contains("1214 is below the IPv6 minimum MTU of 1280"),
            "{c}"
        );
        assert!(c.contains("Linux turns IPv6 off"), "{c}");
        assert!(!c.contains("RFC 9293"), "{c}");
        // 576: 576-20-8-16-16 = 516 -> 512 - 2 = 510; MSS 470 < 536: explained.
        let l = enc("aes128-sha256", false).limits(576).unwrap();
        assert_eq!((l.tunnel_mtu, l.tcp_mss_ipv4), (510, 470));
        let c = commands(&l);
        assert!(c.contains("470 is below TCP's default MSS of 536"), "{c}");
    }

    #[test]
    fn ping_payload_arithmetic() {
        assert_eq!(path_mtu_from_ping_payload(1472, false), 1500);
        assert_eq!(path_mtu_from_ping_payload(1252, false), 1280);
        assert_eq!(path_mtu_from_ping_payload(1452, true), 1500);
    }

    #[test]
    fn ciphers_and_modes() {
        // 1500, no NAT-T, AES-GCM-16: 1500-20-8-8-16 = 1448, /4 -> 1448, -2 = 1446.
        assert_eq!(
            enc("aes128gcm16", false).limits(1500).unwrap().tunnel_mtu,
            1446
        );
        // 3DES-SHA1 with NAT-T: 1500-20-8-8-8-12 = 1444, /8*8 = 1440, -2 = 1438.
        assert_eq!(
            enc("3des-sha1", true).limits(1500).unwrap().tunnel_mtu,
            1438
        );
        // ChaCha20-Poly1305: 1500-20-8-8-16 = 1448 -> 1446.
        assert_eq!(
            enc("chacha20poly1305", false)
                .limits(1500)
                .unwrap()
                .tunnel_mtu,
            1446
        );
        // L2TP/IPsec with NAT-T, AES-CBC-128-SHA1: 1500-20-8-8-16-12 = 1436,
        // /16*16 = 1424, -2 = 1422 ESP payload; minus UDP 8, L2TP 8, PPP 4 = 1402.
        let l2tp = Encapsulation {
            mode: Mode::L2tp,
            ..enc("aes128-sha1", true)
        };
        assert_eq!(l2tp.limits(1500).unwrap().tunnel_mtu, 1402);
        // AH + ESP, 1500, aes128-sha1: AH 12 + 12 = 24; 1500-20-24-8-16-12 = 1420,
        // /16*16 = 1408, -2 = 1406.
        let ah = Encapsulation {
            ah: true,
            ..enc("aes128-sha1", false)
        };
        assert_eq!(ah.ah_bytes(), 24);
        assert_eq!(ah.limits(1500).unwrap().tunnel_mtu, 1406);
        assert!(CipherSuite::parse("rot13-sha1").is_err());
        assert!(enc("aes256-sha256", true).limits(40).is_none());
    }
}

/// A whole calculation, as `ikediag mtu` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Calculation {
    pub path_mtu: u32,
    /// Where the path MTU came from ("given", "PPPoE access", "DF ping of 1252 bytes").
    pub path_mtu_source: String,
    pub encapsulation: Encapsulation,
    pub tunnel_mtu: u32,
    pub tcp_mss_ipv4: u32,
    pub tcp_mss_ipv6: u32,
    pub fixed_overhead: u32,
    pub overhead: Vec<OverheadField>,
    pub commands: Vec<PlatformCommands>,
}

impl Calculation {
    pub fn new(path_mtu: u32, source: String, enc: Encapsulation) -> Option<Self> {
        let l = enc.limits(path_mtu)?;
        Some(Calculation {
            path_mtu,
            path_mtu_source: source,
            tunnel_mtu: l.tunnel_mtu,
            tcp_mss_ipv4: l.tcp_mss_ipv4,
            tcp_mss_ipv6: l.tcp_mss_ipv6,
            fixed_overhead: l.fixed_overhead,
            overhead: l.fields.clone(),
            commands: apply_commands(&l),
            encapsulation: enc,
        })
    }

    /// The human-readable calculation, with the arithmetic spelled out.
    pub fn render_text(&self) -> String {
        use std::fmt::Write;
        let e = &self.encapsulation;
        let s = &e.suite;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Path MTU: {} bytes ({})",
            self.path_mtu, self.path_mtu_source
        );
        let mode = match e.mode {
            Mode::Tunnel => "ESP tunnel mode",
            Mode::Transport => "ESP transport mode",
            Mode::L2tp => "L2TP/IPsec (ESP transport mode)",
            Mode::Gre => "GRE over IPsec (ESP transport mode)",
        };
        let _ = writeln!(
            out,
            "Encapsulation: {mode}, outer {}, {}, ESP {} = {} + {}",
            if e.outer_ipv6 { "IPv6" } else { "IPv4" },
            if e.tcp {
                "IKE/ESP over TCP (RFC 8229)"
            } else if e.natt {
                "NAT-T (UDP 4500)"
            } else {
                "no NAT-T"
            },
            s.name,
            s.encryption,
            s.integrity
        );
        let _ = writeln!(out, "\nOverhead per packet:");
        for f in &self.overhead {
            let _ = writeln!(out, "  {:>4}  {}", f.bytes, f.field);
        }
        let _ = writeln!(out, "  ----");
        let _ = writeln!(
            out,
            "  {:>4}  total, plus padding to a multiple of {} bytes",
            self.fixed_overhead, s.block
        );
        let ip = if e.outer_ipv6 { 40 } else { 20 };
        let transport = if e.tcp {
            34
        } else if e.natt {
            8
        } else {
            0
        };
        let ah = e.ah_bytes();
        let avail = self
            .path_mtu
            .saturating_sub(ip + transport + ah + 8 + s.iv + s.icv);
        let _ = writeln!(
            out,
            "\nArithmetic: {} - {} (outer IP) - {} (UDP/TCP) - {} (AH) - 8 (SPI, sequence) - {} (IV) - {} (ICV) = {} bytes for payload + padding + 2;\n            rounded down to a multiple of {}: {}, minus 2 = {} bytes of ESP payload.",
            self.path_mtu,
            ip,
            transport,
            ah,
            s.iv,
            s.icv,
            avail,
            s.block,
            avail / s.block * s.block,
            (avail / s.block * s.block).saturating_sub(2)
        );
        let _ = writeln!(
            out,
            "\nTunnel MTU: {} bytes (the largest inner IP packet that fits)",
            self.tunnel_mtu
        );
        let _ = writeln!(
            out,
            "TCP MSS:    {} for IPv4 inner traffic (MTU - 40), {} for IPv6 (MTU - 60)",
            self.tcp_mss_ipv4, self.tcp_mss_ipv6
        );
        let _ = writeln!(out, "\nApply it:");
        for c in &self.commands {
            let _ = writeln!(out, "  {}:", c.platform);
            for cmd in &c.commands {
                for line in cmd.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        out
    }
}
