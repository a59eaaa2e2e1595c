/**
 * The distribution files checked the way their ecosystems check them:
 * Kubernetes manifests parsed and held to their invariants (the server's
 * own flag parser reads their arguments), the workflows validated against
 * the GitHub Actions schema, YAML linted, the Dockerfile's final stage
 * held to distroless and non-root. A missing tool fails and names its
 * package.
 */

import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import {
  HOST_ENV,
  parseBenchArgs,
  parseServerArgs,
  type ServerArgs,
} from "../../lib/cli/mod.ts";
import { archiveName, sha256sums } from "../../tools/release.ts";
import { PERMISSIONS, TARGETS } from "../../tools/compile.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const KUBERNETES = `${ROOT}deploy/kubernetes`;

// deno-lint-ignore no-explicit-any
type Manifest = any;

async function manifests(): Promise<Map<string, Manifest>> {
  const kustomization = await readYaml(`${KUBERNETES}/kustomization.yaml`);
  const byKind = new Map<string, Manifest>();
  for (const file of [...kustomization.resources, "servicemonitor.yaml"]) {
    for (const document of await readYamlAll(`${KUBERNETES}/${file}`)) {
      byKind.set(document.kind, document);
    }
  }
  return byKind;
}

async function readYamlAll(path: string): Promise<Manifest[]> {
  const documents = parseAllDocuments(await Deno.readTextFile(path));
  return documents.map((document) => {
    assert.deepEqual(document.errors, [], `${path} parses`);
    return document.toJS();
  });
}

async function readYaml(path: string): Promise<Manifest> {
  const [document] = await readYamlAll(path);
  return document;
}

function serverArgs(args: string[]): ServerArgs {
  const parsed = parseServerArgs(args);
  assert.equal(parsed.kind, "serve");
  return (parsed as { args: ServerArgs }).args;
}

async function requireTool(
  command: string,
  debianPackage: string,
): Promise<void> {
  try {
    if (
      (await new Deno.Command(command, {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      }).output()).success
    ) {
      return;
    }
  } catch {
    // Not installed.
  }
  assert.fail(
    `${command} is needed: install the Debian package ${debianPackage} (.ci/run does)`,
  );
}

Deno.test("the Deployment's probes, ports and grace period match the server's own flags", async () => {
  const all = await manifests();
  const deployment = all.get("Deployment");
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  const args = serverArgs(container.args);
  assert.equal((args.endpoint as { hostname: string }).hostname, "0.0.0.0");
  assert.ok(args.admin !== undefined, "the admin endpoint is on");
  const port = (name: string) =>
    container.ports.find((each: Manifest) => each.name === name);
  assert.equal(port("admin").containerPort, args.admin?.port);
  assert.equal(
    port("echo-tcp").containerPort,
    (args.endpoint as { port: number }).port,
  );
  assert.equal(port("echo-udp").protocol, "UDP");
  assert.equal(container.readinessProbe.httpGet.path, "/readyz");
  assert.equal(container.readinessProbe.httpGet.port, "admin");
  assert.equal(container.livenessProbe.httpGet.path, "/healthz");
  assert.equal(container.livenessProbe.httpGet.port, "admin");
  const preStop = container.lifecycle.preStop.sleep.seconds;
  assert.ok(
    pod.terminationGracePeriodSeconds * 1000 >
      (args.limits?.drainTimeout ?? 0) + preStop * 1000,
    "grace period longer than the drain plus the preStop pause",
  );
  const cpuLimit = String(container.resources.limits.cpu);
  const cores = cpuLimit.endsWith("m")
    ? Number(cpuLimit.slice(0, -1)) / 1000
    : Number(cpuLimit);
  assert.equal(
    args.workers,
    Math.max(1, Math.floor(cores)),
    "--workers matches the CPU limit",
  );
  assert.ok(
    container.resources.requests.memory && container.resources.limits.memory,
  );
});

Deno.test("the Deployment gives the server what --banner and /info show of its pod: the downward API's name, namespace and node, in the variables it reads", async () => {
  const deployment = (await manifests()).get("Deployment");
  const [container] = deployment.spec.template.spec.containers;
  const fields = Object.fromEntries(
    container.env.map((variable: Manifest) => [
      variable.name,
      variable.valueFrom?.fieldRef?.fieldPath,
    ]),
  );
  assert.deepEqual(fields, {
    [HOST_ENV.pod]: "metadata.name",
    [HOST_ENV.namespace]: "metadata.namespace",
    [HOST_ENV.node]: "spec.nodeName",
  });
  // The binary may read exactly these (and nothing else of the env).
  const env = PERMISSIONS["echo-server"].find((flag) =>
    flag.startsWith("--allow-env=")
  );
  for (const name of Object.values(HOST_ENV)) {
    assert.ok(env?.split(/[=,]/).includes(name), `${name} in ${env}`);
  }
});

Deno.test("the Deployment runs non-root, read-only, without privileges or capabilities, under RuntimeDefault seccomp", async () => {
  const pod = (await manifests()).get("Deployment").spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
  assert.equal(pod.automountServiceAccountToken, false);
  for (const container of pod.containers) {
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
  }
});

Deno.test("Service, autoscaler, disruption budget and ServiceMonitor point at the Deployment's pods and ports", async () => {
  const all = await manifests();
  const deployment = all.get("Deployment");
  const podLabels = deployment.spec.template.metadata.labels;
  const containerPorts = deployment.spec.template.spec.containers[0].ports
    .map((port: Manifest) => port.name);
  const service = all.get("Service");
  for (const [key, value] of Object.entries(service.spec.selector)) {
    assert.equal(podLabels[key], value);
  }
  for (const port of service.spec.ports) {
    assert.ok(containerPorts.includes(port.targetPort), port.name);
  }
  assert.deepEqual(
    service.spec.ports.map((port: Manifest) => `${port.port}/${port.protocol}`)
      .sort(),
    ["7007/TCP", "7007/UDP", "9090/TCP"],
  );
  const hpa = all.get("HorizontalPodAutoscaler");
  assert.equal(hpa.spec.scaleTargetRef.kind, "Deployment");
  assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
  assert.equal(hpa.spec.metrics[0].resource.name, "cpu");
  const pdb = all.get("PodDisruptionBudget");
  for (const [key, value] of Object.entries(pdb.spec.selector.matchLabels)) {
    assert.equal(podLabels[key], value);
  }
  const monitor = all.get("ServiceMonitor");
  assert.equal(monitor.spec.endpoints[0].port, "admin");
  assert.equal(monitor.spec.endpoints[0].path, "/metrics");
  const annotations = deployment.spec.template.metadata.annotations;
  assert.equal(annotations["prometheus.io/path"], "/metrics");
  assert.equal(Number(annotations["prometheus.io/port"]), 9090);
});

Deno.test("the Dockerfile builds with the pinned Deno and ends in distroless, non-root, exec-form, with the ports the server listens on", async () => {
  const text = await Deno.readTextFile(`${ROOT}Dockerfile`);
  const lines = text.split("\n").filter((line) => !line.startsWith("#"));
  const froms = lines.filter((line) => line.startsWith("FROM "));
  assert.equal(froms.length, 2, "multi-stage");
  assert.match(froms[0] ?? "", /denoland\/deno:\$\{DENO_VERSION\} AS build$/);
  const ci = await Deno.readTextFile(`${ROOT}.ci/run`);
  const pinned = /^DENO_VERSION=(.*)$/m.exec(ci)?.[1];
  assert.ok(
    text.includes(`ARG DENO_VERSION=${pinned}`),
    `Deno ${pinned}, as .ci/run`,
  );
  assert.equal(froms.at(-1), "FROM gcr.io/distroless/cc-debian12:nonroot");
  const last = lines.slice(lines.indexOf(froms.at(-1) as string));
  assert.ok(last.includes("USER nonroot"));
  assert.ok(last.includes('ENTRYPOINT ["/echo-server"]'), "exec form");
  assert.ok(
    !last.some((line) => line.startsWith("RUN ")),
    "no shell in the final stage",
  );
  const cmd = JSON.parse(
    (last.find((line) => line.startsWith("CMD ")) ?? "").slice(4),
  );
  const args = serverArgs(cmd);
  assert.equal((args.endpoint as { hostname: string }).hostname, "0.0.0.0");
  const expose = (last.find((line) => line.startsWith("EXPOSE ")) ?? "").split(
    " ",
  ).slice(1);
  assert.deepEqual(
    expose.sort(),
    [
      `${args.admin?.port}/tcp`,
      `${(args.endpoint as { port: number }).port}/tcp`,
      `${(args.endpoint as { port: number }).port}/udp`,
    ].sort(),
  );
  for (const label of ["title", "version", "licenses", "source"]) {
    assert.ok(text.includes(`org.opencontainers.image.${label}=`), label);
  }
  // The health check is the binary itself, in exec form (no shell), and
  // asks the admin port the CMD opens.
  const health = /^HEALTHCHECK .*\\\n\s*CMD (\[.*\])$/m.exec(text)?.[1];
  assert.ok(health !== undefined, "a HEALTHCHECK in exec form");
  const [binary, subcommand, url] = JSON.parse(health);
  assert.deepEqual([binary, subcommand], ["/echo-server", "health"]);
  assert.equal(new URL(url).port, String(args.admin?.port));
  assert.equal(new URL(url).pathname, "/readyz");
  assert.ok((args.limits?.shutdownDelay ?? 0) > 0, "--shutdown-delay set");
});

Deno.test("the workflows validate against the GitHub Actions schema (action-validator)", async () => {
  for (const file of ["ci.yml", "release.yml"]) {
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-env",
        "npm:@action-validator/cli@0.6.0",
        `${ROOT}.github/workflows/${file}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(
      result.success,
      `${file}: ${new TextDecoder().decode(result.stdout)}`,
    );
  }
  const release = await readYaml(`${ROOT}.github/workflows/release.yml`);
  assert.deepEqual(release.on.push.tags, ["v*"]);
  assert.ok(
    release.jobs.test.steps.some((step: Manifest) => step.run === ".ci/run"),
  );
  assert.deepEqual(release.jobs.binaries.needs, "test");
  assert.ok(
    release.jobs.binaries.steps.some((step: Manifest) =>
      /deno task release/.test(step.run ?? "")
    ),
  );
  const build = release.jobs.image.steps.find((step: Manifest) =>
    String(step.uses).startsWith("docker/build-push-action")
  );
  assert.equal(build.with.platforms, "linux/amd64,linux/arm64");
  const ci = await readYaml(`${ROOT}.github/workflows/ci.yml`);
  assert.ok(
    ci.jobs.test.steps.some((step: Manifest) => step.run === ".ci/run"),
  );
});

Deno.test("yamllint accepts the manifests and the workflows", async () => {
  await requireTool("yamllint", "yamllint");
  const result = await new Deno.Command("yamllint", {
    args: ["-d", "relaxed", "--strict", `${ROOT}deploy`, `${ROOT}.github`],
    stdout: "piped",
  }).output();
  assert.ok(result.success, new TextDecoder().decode(result.stdout));
});

Deno.test("release archives are named per target and SHA256SUMS reads as sha256sum's format", async () => {
  assert.equal(
    archiveName("v1.2.3", "x86_64-unknown-linux-gnu"),
    "echo-v1.2.3-x86_64-unknown-linux-gnu.tar.gz",
  );
  assert.equal(
    archiveName("v1.2.3", "x86_64-pc-windows-msvc"),
    "echo-v1.2.3-x86_64-pc-windows-msvc.zip",
  );
  for (
    const required of [
      "x86_64-unknown-linux-gnu",
      "aarch64-unknown-linux-gnu",
      "x86_64-apple-darwin",
      "aarch64-apple-darwin",
      "x86_64-pc-windows-msvc",
    ]
  ) {
    assert.ok((TARGETS as readonly string[]).includes(required), required);
  }
  const sums = await sha256sums([{
    name: "a.tar.gz",
    bytes: new TextEncoder().encode("abc"),
  }]);
  assert.equal(
    sums,
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.tar.gz\n",
  );
});

Deno.test("the bench Job: indexed pods that each print one bench --json result of a load on the Service, for echo-client merge", async () => {
  const [job] = await readYamlAll(`${KUBERNETES}/bench-job.yaml`);
  assert.equal(job?.kind, "Job");
  const spec = job?.spec;
  assert.equal(spec.completionMode, "Indexed");
  assert.equal(spec.completions, spec.parallelism, "all pods load at once");
  const pod = spec.template.spec;
  assert.equal(pod.restartPolicy, "Never");
  assert.equal(pod.securityContext.runAsNonRoot, true);
  const [container] = pod.containers;
  assert.deepEqual(container.command, ["/echo-client"]);
  const command = parseBenchArgs(container.args.slice(1));
  assert.equal(container.args[0], "bench");
  assert.equal(command.kind, "bench");
  if (command.kind !== "bench") return;
  assert.equal(command.args.json, true, "JSON, for merge");
  const service = (await manifests()).get("Service");
  const { hostname, port } = command.args.endpoint as {
    hostname: string;
    port: number;
  };
  assert.equal(hostname, service?.metadata.name, "the Service by name");
  assert.ok(
    service?.spec.ports.some((p: { port: number; protocol: string }) =>
      p.port === port && p.protocol === "TCP"
    ),
  );
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  const dockerfile = await Deno.readTextFile(`${ROOT}Dockerfile`);
  assert.match(dockerfile, /^COPY --from=build \/echo-client \/echo-client$/m);
});
