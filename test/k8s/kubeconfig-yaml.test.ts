// kubeconfig-yaml.ts reads the YAML kubeconfig files are written in exactly as a full YAML 1.2
// parser does, and answers undefined (the full parser reads the file then) for anything else.
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { parseKubeconfigYaml } from "../../src/k8s/kubeconfig-yaml.js";

/** As `kubectl config view --raw` writes a kubeconfig: sequences at their key's indentation. */
const kubectlStyle = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTi==
    server: https://127.0.0.1:6443
    tls-server-name: api.example.com
  name: kind-kind
- cluster:
    insecure-skip-tls-verify: true
    server: "https://10.0.0.1:443"
    proxy-url: socks5://127.0.0.1:1080
  name: 'prod # eu'
contexts:
- context:
    cluster: kind-kind
    namespace: demo
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
- name: "it's \\"quoted\\""
  user:
    token: abc.def-ghi_jkl   # a comment
    as: system:admin
    password: 'it''s'
    username: null
`;

const cases: Record<string, string> = {
  "kubectl's layout": kubectlStyle,
  "the yaml package's layout (kvmig sim, the tests)": stringify(parse(kubectlStyle)),
  "a document marker, comments, blank lines, CRLF": `---\r\n# written by hand\r\napiVersion: v1\r\n\r\nclusters:\r\n  # none yet\r\n  - name: a\r\n    cluster:\r\n      server: https://a\r\n`,
  "a sequence item on its own line": "contexts:\n  -\n    name: x\n    context:\n      cluster: c\n",
  "scalars: null, booleans, integers, strings that look like neither": `a: ~
b:
c: True
d: FALSE
e: 0
f: -42
i: v1.32
j: 'true'
k: "123"
l: a#b
m: "tab\\tand\\\\backslash"
n: []
o: http://[::1]:8080/path?q=1
`,
  "an exec user as aws eks update-kubeconfig writes it": `users:
- name: arn:aws:eks:us-west-2:123456789012:cluster/prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --region
      - us-west-2
      - eks
      - get-token
      - --cluster-name
      - prod
      - -o
      - json
      command: aws
      env:
      - name: AWS_PROFILE
        value: prod
      interactiveMode: IfAvailable
      provideClusterInfo: false
`,
  "an exec user as kubelogin writes it (a server ID)": `users:
- name: clusterUser_rg_aks
  user:
    exec:
      args:
      - get-token
      - --server-id
      - 6dae42f8-4368-4678-94ff-3960e28e3630
      - --login
      - azurecli
      command: kubelogin
`,
  "plain scalars that start with dashes": "b: -x\nc: --x=1\nd: -_\ne: --a-b\n",
};

describe("parseKubeconfigYaml: what it reads, it reads as a full YAML parser does", () => {
  for (const [name, text] of Object.entries(cases)) {
    it(name, () => {
      const fast = parseKubeconfigYaml(text);
      expect(fast).not.toBeUndefined();
      expect(fast).toEqual(parse(text));
    });
  }
});

describe("parseKubeconfigYaml: what it leaves to the full parser", () => {
  const leftOut: Record<string, string> = {
    "a flow mapping": "cluster: {server: https://a}\n",
    "a flow sequence": "args: [a, b]\n",
    "anchors and aliases": "a: &x 1\nb: *x\n",
    "a merge key": "a:\n  <<: {}\n",
    "a tag": "a: !!str 1\n",
    "a literal block scalar": "a: |\n  line\n",
    "a folded block scalar": "a: >\n  line\n",
    "a plain scalar over two lines": "a: one\n  two\n",
    "a quoted scalar over two lines": 'a: "one\n  two"\n',
    "YAML 1.1's yes (go-yaml's true)": "a: yes\n",
    "YAML 1.1's off (go-yaml's false)": "a: off\n",
    "YAML 1.1's N": "a: N\n",
    "a float": "a: 1.5\n",
    "an octal-looking number": "a: 0755\n",
    "a timestamp": "a: 2024-01-01\n",
    "a hexadecimal number": "a: 0x1F\n",
    "a negative float": "a: -1.5\n",
    "a negative float without its 0": "a: -.5\n",
    "negative infinity": "a: -.inf\n",
    "a dash and a space in a value": "a: - x\n",
    "': ' inside a plain scalar starting with dashes": "args:\n- --flag: x\n",
    "an ID that is no UUID": "a: 6dae42f8-4368\n",
    "a duplicate key": "a: 1\na: 2\n",
    "a key with a space": "my key: 1\n",
    "': ' inside a plain scalar": "a: b: c\n",
    "tab indentation": "a:\n\tb: 1\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "a directive": "%YAML 1.2\n---\na: 1\n",
    "a scalar document": "just text\n",
    "an unknown escape": 'a: "\\x41"\n',
    "text after a quoted scalar": "a: 'b' c\n",
    "an indentation that goes back to no level": "a:\n    b: 1\n  c: 2\n",
    "a nested sequence on the dash's line": "a:\n- - x\n",
    "a key named __proto__": "__proto__: 1\n",
  };
  for (const [name, text] of Object.entries(leftOut)) {
    it(name, () => {
      expect(parseKubeconfigYaml(text)).toBeUndefined();
    });
  }

  it("an empty document is left out too (the caller reads an empty file as an empty config)", () => {
    expect(parseKubeconfigYaml("# only a comment\n\n")).toBeUndefined();
  });
});
