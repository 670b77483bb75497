//! Garage nodes on loopback for the S3 tests.
//!
//! Each node is set up as its operator would: a TOML file, `garage server`,
//! then the `garage` command (`layout assign/apply`, `bucket create`,
//! `key create`, `bucket allow`). Both of a node's ports are 0 in its file;
//! the test reads them back from `/proc` and tells the S3 port from the RPC
//! port by which one answers HTTP. The public RPC address is loopback with
//! the port left 0, so nothing a node advertises points off this machine;
//! nodes are joined by `garage node connect` with their real addresses.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::peers;
use crate::util::listening_ports;

pub struct GarageNode {
    child: Child,
    config: PathBuf,
    /// `<full node id>@127.0.0.1:<rpc port>`, as `garage -h` and
    /// `garage node connect` take it.
    pub rpc: String,
    pub s3_port: u16,
    pub id: String,
}

/// A shared RPC secret for the nodes of one cluster.
pub fn rpc_secret() -> String {
    hex::encode(std::array::from_fn::<u8, 32, _>(|_| fastrand::u8(..)))
}

fn answers_http(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.write_all(b"GET / HTTP/1.0\r\n\r\n");
    let mut start = [0u8; 5];
    stream.read_exact(&mut start).is_ok() && &start == b"HTTP/"
}

impl GarageNode {
    pub fn start(dir: &Path, secret: &str, replication: u8) -> GarageNode {
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("garage.toml");
        std::fs::write(
            &config,
            format!(
                "metadata_dir = \"{meta}\"\ndata_dir = \"{data}\"\ndb_engine = \"lmdb\"\n\
                 replication_factor = {replication}\n\
                 rpc_bind_addr = \"127.0.0.1:0\"\nrpc_public_addr = \"127.0.0.1:0\"\n\
                 rpc_secret = \"{secret}\"\n\n\
                 [s3_api]\ns3_region = \"garage\"\napi_bind_addr = \"127.0.0.1:0\"\n\
                 root_domain = \".s3.garage.localhost\"\n",
                meta = dir.join("meta").display(),
                data = dir.join("data").display(),
            ),
        )
        .unwrap();
        let child = Command::new(peers::garage())
            .arg("-c")
            .arg(&config)
            .arg("server")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("garage.log")).unwrap())
            .spawn()
            .unwrap();
        let mut ports = Vec::new();
        for _ in 0..400 {
            ports = listening_ports(child.id());
            if ports.len() >= 2 {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        assert!(ports.len() >= 2, "garage never listened: {ports:?}");
        let s3_port = *ports
            .iter()
            .find(|port| answers_http(**port))
            .expect("no port of garage answers HTTP");
        let rpc_port = *ports.iter().find(|port| **port != s3_port).unwrap();
        let key = std::fs::read(dir.join("meta/node_key.pub")).unwrap();
        let id = hex::encode(key);
        GarageNode {
            child,
            config,
            rpc: format!("{id}@127.0.0.1:{rpc_port}"),
            s3_port,
            id,
        }
    }

    /// Runs `garage` against this node; its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(peers::garage())
            .arg("-c")
            .arg(&self.config)
            .arg("-h")
            .arg(&self.rpc)
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "garage {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// Stops the node, as a machine that fails would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for GarageNode {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Gives every node a role in one zone each and applies the layout.
pub fn apply_layout(nodes: &[&GarageNode]) {
    let first = nodes[0];
    for (n, node) in nodes.iter().enumerate() {
        for later in &nodes[n + 1..] {
            node.cli(&["node", "connect", &later.rpc]);
        }
    }
    for (n, node) in nodes.iter().enumerate() {
        let zone = format!("dc{}", n + 1);
        first.cli(&["layout", "assign", "-z", &zone, "-c", "1G", &node.id[..16]]);
    }
    first.cli(&["layout", "apply", "--version", "1"]);
}

/// Creates `bucket` and a key that may read and write it: (key id, secret).
pub fn bucket_and_key(node: &GarageNode, bucket: &str) -> (String, String) {
    node.cli(&["bucket", "create", bucket]);
    let created = node.cli(&["key", "create", "ferry-test"]);
    let field = |name: &str| {
        created
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|rest| rest.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name:?} in {created}"))
    };
    let (id, secret) = (field("Key ID:"), field("Secret key:"));
    node.cli(&[
        "bucket", "allow", "--read", "--write", "--owner", bucket, "--key", &id,
    ]);
    (id, secret)
}
