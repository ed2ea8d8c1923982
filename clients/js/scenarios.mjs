// What an SPA does with Clinic API, through clinic-client.mjs, against the server at CLINIC_URL.
// Run by tests/clients/test_apollo_client.py: `node scenarios.mjs <scenario>` prints one JSON
// object (what happened, and every request body the client sent) for the test to check.
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { createClinicClient, errorCodes } from "./clinic-client.mjs";

const OPERATIONS = new URL("../operations/", import.meta.url);
const operation = (name) => parse(readFileSync(new URL(`${name}.graphql`, OPERATIONS), "utf8"));
const [Login, Me, Worklist] = ["Login", "Me", "Worklist"].map(operation);

const uri = process.env.CLINIC_URL;
const password = process.env.CLINIC_PASSWORD;

/** A client whose requests are recorded as sent (parsed JSON bodies). */
function recordingClient(options = {}) {
  const sent = [];
  const fetch = (url, init) => {
    sent.push(JSON.parse(init.body));
    return globalThis.fetch(url, init);
  };
  return { ...createClinicClient({ uri, fetch, ...options }), sent };
}

async function signIn({ client, setTokens }, username) {
  const { data } = await client.mutate({ mutation: Login, variables: { username, password } });
  setTokens(data.tokenAuth);
  return data.tokenAuth;
}

async function attempt(promise) {
  try {
    return { data: (await promise).data };
  } catch (error) {
    return { codes: errorCodes(error), message: error.message };
  }
}

const scenarios = {
  // Sign in, who am I, the worklist (variables), one annotation: the first hour of a doctor's app.
  async doctor() {
    const app = recordingClient({ persistedQueries: false });
    const tokens = await signIn(app, "dr.grey");
    const me = await app.client.query({ query: Me });
    const worklist = await app.client.query({ query: Worklist, variables: { first: 5, search: "alice" } });
    const nobody = await app.client.query({ query: Worklist, variables: { first: 5, search: "nobody-by-that-name" } });
    return {
      tokens: Object.keys(tokens).sort(),
      me: me.data.me,
      worklist: worklist.data.patients,
      nobody: nobody.data.patients.totalCount,
      sent: app.sent,
    };
  },

  // One page load with APQ: whatever the server does not know yet is sent again with its text.
  async apq() {
    const app = recordingClient();
    await signIn(app, "dr.grey");
    const me = await app.client.query({ query: Me });
    const worklist = await app.client.query({ query: Worklist, variables: { first: 1 } });
    return { me: me.data.me, total: worklist.data.patients.totalCount, sent: app.sent };
  },

  // Trusted documents mode: the manifest's operations run (by hash, first time), others do not.
  async trusted() {
    const app = recordingClient();
    await signIn(app, "dr.grey");
    const me = await app.client.query({ query: Me });
    const worklist = await app.client.query({ query: Worklist, variables: { first: 1 } });
    const other = await attempt(app.client.query({ query: parse("query Other { me { username email } }") }));
    // The same manifest operation as plain text, without APQ: trusted by its hash too.
    const plain = recordingClient({ persistedQueries: false });
    plain.setTokens(app.session);
    const plainMe = await attempt(plain.client.query({ query: Me }));
    const plainOther = await attempt(plain.client.query({ query: parse("query Other { me { email } }") }));
    return { me: me.data.me, total: worklist.data.patients.totalCount, other, plainMe, plainOther, sent: app.sent };
  },

  // An expired access token (CLINIC_EXPIRED_TOKEN) and three queries at once: one refresh, three answers.
  async refresh() {
    const app = recordingClient({ persistedQueries: false });
    await signIn(app, "dr.grey");
    app.session.token = process.env.CLINIC_EXPIRED_TOKEN;
    const answers = await Promise.all([
      app.client.query({ query: Me }),
      app.client.query({ query: Worklist, variables: { first: 1 } }),
      app.client.query({ query: Worklist, variables: { first: 2 } }),
    ]);
    return {
      usernames: [answers[0].data.me.username],
      totals: answers.slice(1).map((answer) => answer.data.patients.totalCount),
      refreshes: app.session.refreshes,
      sent: app.sent,
    };
  },

  // Two tabs that do not coordinate (no BroadcastChannel, no lock) refresh the same token at once.
  async tabs() {
    const [a, b] = [1, 2].map(() => recordingClient({ persistedQueries: false, shareTabs: false }));
    await signIn(a, "dr.grey");
    b.setTokens(a.session); // the second tab starts from the same session
    a.session.token = b.session.token = process.env.CLINIC_EXPIRED_TOKEN;
    const answers = await Promise.all([a, b].map((tab) => attempt(tab.client.query({ query: Me }))));
    const after = await Promise.all([a, b].map((tab) => attempt(tab.client.query({ query: Me }))));
    return {
      answers,
      after,
      samePair: a.session.refreshToken === b.session.refreshToken,
      refreshes: [a.session.refreshes, b.session.refreshes],
    };
  },
};

const name = process.argv[2];
if (!scenarios[name]) {
  console.error(`usage: node scenarios.mjs ${Object.keys(scenarios).join("|")}`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await scenarios[name]()) + "\n");
