#!/usr/bin/python3
"""bench/count_syncs.py: fsync, rename and unlink calls per accepted and
delivered 4 KB message, for hostmail and Postfix (strace -f -c on every
process of each instance, after a warm-up). Not part of bench/run: strace
slows the servers, so it runs alone, after bench/run has installed Postfix.

  HOSTMAIL_BUILD=build bench/count_syncs.py
"""
import os, subprocess, sys, tempfile, time, shutil, re
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
BUILD = os.environ.get("HOSTMAIL_BUILD", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build"))
N = 200
root = tempfile.mkdtemp(prefix="hostmail-fscount-"); os.chmod(root, 0o755)
cert = servers.make_cert(root)
hm = servers.Hostmail(root, BUILD, cert)
pf = servers.Postfix(root, cert)
SYS = "fsync,fdatasync,sync_file_range,rename,renameat,renameat2,unlink,unlinkat"

def send(srv, n):
    servers.clear_dir(srv.maildir_new)
    subprocess.run(["smtp-source", "-s", "1", "-m", str(n), "-l", "4096", "-f", "s@example.org",
                    "-t", servers.USER, f"127.0.0.1:{srv.port}"], check=True)
    while servers.count_dir(srv.maildir_new) < n: time.sleep(0.05)
    while srv.queue_count() > 0: time.sleep(0.05)

def count(srv, pids):
    send(srv, 10)  # warm: every daemon started
    out = os.path.join(root, srv.name + ".strace")
    args = ["strace", "-f", "-c", "-o", out, "-e", "trace=" + SYS]
    for p in pids(): args += ["-p", str(p)]
    st = subprocess.Popen(args, stderr=subprocess.DEVNULL); time.sleep(1)
    send(srv, N); time.sleep(1)
    st.terminate(); st.wait()
    print(f"== {srv.name}: calls per message ({N} msgs, 4 KB, 1 session)")
    for line in open(out):
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
        if m: print(f"   {m.group(2)}: {int(m.group(1)) / N:.2f}")
try:
    hm.start(); pf.start()
    count(hm, hm.pids)
    count(pf, lambda: servers.session_pids(pf.master_pid()))
finally:
    hm.stop(); pf.stop(); shutil.rmtree(root, ignore_errors=True)
