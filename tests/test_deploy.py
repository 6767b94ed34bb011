"""deploy/: each file parses, runs the worker with arguments its CLI accepts, reads the array index the
worker reads, retries on the worker's "retry me" exit code only, and uses a role instead of keys."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from epcloud.cli import build_parser
from epcloud.cli.study import _SIGTERM_EXIT
from epcloud.study.worker import INDEX_VARIABLES

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
DOCS = Path(__file__).resolve().parents[1] / "docs"
# The worker's "stopped cleanly, run me again" exit; every other non-zero exit would fail again.
RETRY_EXIT_CODES = {_SIGTERM_EXIT}
_KEY_NAMES = re.compile(r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AKIA[0-9A-Z]{16}")


def _worker_args(args: list[str]):
    """The arguments as the real `epcloud worker` parses them (argparse exits on a bad one)."""
    parsed = build_parser().parse_args(["worker", *args])
    assert parsed.func.__name__ == "_worker"
    return parsed


def test_image_entry_point_is_the_worker() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    entry = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", text, re.MULTILINE)
    assert entry and json.loads(entry.group(1)) == ["epcloud", "worker"]


def test_aws_batch_job_definition() -> None:
    text = (DEPLOY / "aws-batch" / "job-definition.json").read_text()
    job = json.loads(text)
    container = job["containerProperties"]
    args = _worker_args(container["command"])
    assert args.store.startswith("s3://") and args.index is None  # the index comes from the array
    assert "AWS_BATCH_JOB_ARRAY_INDEX" in INDEX_VARIABLES
    vcpus = {r["type"]: r["value"] for r in container["resourceRequirements"]}
    assert args.max_workers == int(vcpus["VCPU"]) and int(vcpus["MEMORY"]) >= 1024
    assert container["jobRoleArn"].startswith("arn:aws:iam::") and ":role/" in container["jobRoleArn"]
    assert not _KEY_NAMES.search(text)
    retry = job["retryStrategy"]
    assert retry["attempts"] > 1
    rules = retry["evaluateOnExit"]
    assert {int(r["onExitCode"]) for r in rules if "onExitCode" in r and r["action"] == "RETRY"} == (
        RETRY_EXIT_CODES
    )
    # Anything else exits: the last rule catches all, and no rule retries a user error (exit 1, 2).
    assert rules[-1] == {"onReason": "*", "action": "EXIT"}
    assert all(r.get("onExitCode") not in ("*", "1", "2") for r in rules if r["action"] == "RETRY")
    assert job["timeout"]["attemptDurationSeconds"] > 0


def test_kubernetes_indexed_job() -> None:
    text = (DEPLOY / "kubernetes" / "indexed-job.yaml").read_text()
    docs = {d["kind"]: d for d in yaml.safe_load_all(text)}
    job, account = docs["Job"], docs["ServiceAccount"]
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and "JOB_COMPLETION_INDEX" in INDEX_VARIABLES
    assert spec["completions"] >= spec["parallelism"] >= 1
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"  # podFailurePolicy requires it
    (container,) = pod["containers"]
    args = _worker_args(container["args"])
    assert args.store.startswith("s3://") and args.index is None
    assert args.max_workers == int(container["resources"]["requests"]["cpu"])
    assert container["resources"]["limits"]["memory"] == container["resources"]["requests"]["memory"]
    # The role comes through the service account, no keys anywhere.
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert ":role/" in account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert not _KEY_NAMES.search(text)
    # Retried: the worker's retry exit code (counted per index) and disruptions (not counted).
    assert spec["backoffLimitPerIndex"] >= 1
    rules = spec["podFailurePolicy"]["rules"]
    fail = [r for r in rules if "onExitCodes" in r]
    assert fail == [
        {
            "action": "FailIndex",
            "onExitCodes": {
                "containerName": container["name"],
                "operator": "NotIn",
                "values": sorted(RETRY_EXIT_CODES),
            },
        }
    ]
    assert {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]} in rules
    assert pod["terminationGracePeriodSeconds"] >= 60


# ---------------------------------------------------------------- Slurm: run the script itself

SLURM = DEPLOY / "slurm" / "epcloud-array.sh"


def _sbatch_options() -> dict[str, str]:
    options = {}
    for line in SLURM.read_text().splitlines():
        if line.startswith("#SBATCH "):
            key, _, value = line.removeprefix("#SBATCH ").partition("=")
            options[key] = value
    return options


def test_slurm_directives() -> None:
    options = _sbatch_options()
    assert re.fullmatch(r"0-\d+(%\d+)?", options["--array"])  # 0-based: the worker's index is the task id
    assert "SLURM_ARRAY_TASK_ID" in INDEX_VARIABLES
    assert int(options["--cpus-per-task"]) >= 1 and options["--mem"]
    assert "--requeue" in options and options["--signal"].startswith("B:TERM@")
    codes = re.search(r"^retry_exit_codes=\(([\d ]+)\)", SLURM.read_text(), re.MULTILINE)
    assert codes and {int(c) for c in codes.group(1).split()} == RETRY_EXIT_CODES
    assert not _KEY_NAMES.search(SLURM.read_text())


@pytest.fixture
def fake_slurm(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """`epcloud` and `scontrol` stand-ins on PATH that record how they were called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "epcloud").write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$SLURM_ARRAY_TASK_ID $*" > {tmp_path}/epcloud.args\n'
        f'trap "echo term > {tmp_path}/epcloud.term; exit 143" TERM\n'
        'if [[ "$FAKE_EXIT" == wait ]]; then touch ' + str(tmp_path / "epcloud.started") + "; "
        "while true; do sleep 0.05; done; fi\n"
        'exit "$FAKE_EXIT"\n'
    )
    (bin_dir / "scontrol").write_text(f'#!/usr/bin/env bash\necho "$*" >> {tmp_path}/scontrol.calls\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "SLURM_ARRAY_JOB_ID": "77",
        "SLURM_ARRAY_TASK_ID": "5",
        "SLURM_CPUS_PER_TASK": "2",
    }
    return tmp_path, env


@pytest.mark.parametrize(
    ("worker_exit", "restarts", "requeued", "script_exit"),
    [(0, 0, False, 0), (143, 0, True, 0), (143, 3, False, 143), (1, 0, False, 1), (2, 0, False, 2)],
)
def test_slurm_requeues_only_on_retry_exit(
    fake_slurm, worker_exit: int, restarts: int, requeued: bool, script_exit: int
) -> None:
    tmp, env = fake_slurm
    env.update(FAKE_EXIT=str(worker_exit), SLURM_RESTART_COUNT=str(restarts))
    done = subprocess.run(["bash", str(SLURM), "s3://bucket/study"], env=env, capture_output=True, text=True)
    assert done.returncode == script_exit, done.stderr
    task, *args = (tmp / "epcloud.args").read_text().split()
    assert (
        task == "5"
        and _worker_args(args[1:]).max_workers == 2
        and args[:2] == ["worker", "s3://bucket/study"]
    )
    calls = (tmp / "scontrol.calls").read_text().splitlines() if (tmp / "scontrol.calls").exists() else []
    assert calls == (["requeue 77_5"] if requeued else [])


def test_slurm_passes_sigterm_to_the_worker_and_requeues(fake_slurm) -> None:
    tmp, env = fake_slurm
    env.update(FAKE_EXIT="wait", SLURM_RESTART_COUNT="0")
    script = subprocess.Popen(["bash", str(SLURM), "s3://bucket/study"], env=env)
    try:
        for _ in range(200):  # until the stand-in worker runs
            if (tmp / "epcloud.started").exists():
                break
            time.sleep(0.05)
        script.send_signal(signal.SIGTERM)  # what --signal=B:TERM does before the time limit
        assert script.wait(timeout=30) == 0
    finally:
        script.kill()
    assert (tmp / "epcloud.term").exists()
    assert (tmp / "scontrol.calls").read_text().splitlines() == ["requeue 77_5"]


def test_docs_include_the_files_instead_of_copies() -> None:
    page = (DOCS / "scaling-out.md").read_text()
    for path in (
        "deploy/aws-batch/job-definition.json",
        "deploy/kubernetes/indexed-job.yaml",
        "deploy/slurm/epcloud-array.sh",
        "deploy/Dockerfile",
    ):
        assert f'--8<-- "{path}"' in page, path
    assert '"jobDefinitionName"' not in page and "completionMode:" not in page
