// A real JavaScript WAMP client (autobahn-js) for the integration tests.
// Usage: node wamp_probe.js '<plan JSON>'
// plan: {url, realm, authid?, secret?, authextra?, timeout_ms?, actions: [...]}
// Prints one JSON object: {joined, join_error?, results: [...]}.
globalThis.WebSocket = globalThis.WebSocket || require('ws');
const autobahn = require('autobahn');
const LZString = require('lz-string');

const plan = JSON.parse(process.argv[2]);
const timeoutMs = plan.timeout_ms || 20000;
const output = { joined: false, results: [] };

function finish(code) {
  process.stdout.write(JSON.stringify(output) + '\n');
  process.exit(code);
}
setTimeout(() => { output.timed_out = true; finish(3); }, timeoutMs + 5000);

function decode(args) {
  // A state wrapper (msgClass 8) is decompressed with the real lz-string.
  const wrapper = args && args[0];
  const result = { args: args };
  if (wrapper && wrapper.msgClass === 8) {
    const text = LZString.decompressFromUTF16(wrapper.payload);
    result.state = text === null ? null : JSON.parse(text);
  }
  return result;
}

function withTimeout(promise, what) {
  return Promise.race([promise, new Promise((_, reject) =>
    setTimeout(() => reject({ error: 'timeout: ' + what }), timeoutMs))]);
}

function errorOf(e) {
  return { error: (e && (e.error || e.message)) || String(e), args: e && e.args };
}

function nextEvent(session, topic, options, predicate) {
  return new Promise((resolve, reject) => {
    let subscription = null;
    session.subscribe(topic, (args, kwargs, details) => {
      const decoded = decode(args);
      decoded.topic = details.topic || topic;
      if (!predicate || predicate(decoded)) {
        if (subscription) session.unsubscribe(subscription);
        resolve(decoded);
      }
    }, options).then(s => { subscription = s; }, reject);
  });
}

async function run(session, action) {
  action.started = Date.now();
  switch (action.op) {
    case 'retained':
      return withTimeout(nextEvent(session, action.topic, { get_retained: true, match: action.match }), action.topic);
    case 'next':
      return withTimeout(nextEvent(session, action.topic, { match: action.match }, action.contains ?
        (e => JSON.stringify(e.args).includes(action.contains) === !action.absent) : null), action.topic);
    case 'call':
      return withTimeout(session.call(action.procedure, action.args || [], action.kwargs || {}), action.procedure)
        .then(r => ({ result: r }));
    case 'publish':
      return session.publish(action.topic, action.args || [], action.kwargs || {},
        Object.assign({ acknowledge: true }, action.options || {}))
        .then(() => ({ ok: true }));
    case 'until': {
      // Call repeatedly until the JSON of the result does (or, with absent, does not) contain a string.
      const deadline = Date.now() + (action.within_ms || timeoutMs);
      for (;;) {
        const result = await session.call(action.procedure, action.args || [], action.kwargs || {});
        const found = JSON.stringify(result).includes(action.contains);
        if (found !== !!action.absent) return { result: result, elapsed_ms: Date.now() - action.started };
        if (Date.now() > deadline) return { error: 'condition not met', result: result };
        await new Promise(r => setTimeout(r, 100));
      }
    }
    case 'register':
      return session.register(action.procedure, () => action.answer === undefined ? true : action.answer,
        action.force ? { force_reregister: true } : {}).then(() => ({ ok: true }));
    default:
      throw new Error('unknown op ' + action.op);
  }
}

const options = { url: plan.url, realm: plan.realm || 'timing', max_retries: 0 };
if (plan.authid) {
  options.authmethods = ['wampcra'];
  options.authid = plan.authid;
  if (plan.authextra) options.authextra = plan.authextra;
  options.onchallenge = (session, method, extra) => {
    let key = plan.secret;
    if (extra.salt) key = autobahn.auth_cra.derive_key(plan.secret, extra.salt, extra.iterations, extra.keylen);
    return autobahn.auth_cra.sign(key, extra.challenge);
  };
}
const connection = new autobahn.Connection(options);
connection.onopen = async (session, details) => {
  output.joined = true;
  output.authrole = details.authrole;
  output.authid = details.authid;
  for (const action of plan.actions || []) {
    try {
      output.results.push(await run(session, action));
    } catch (e) {
      output.results.push(errorOf(e));
    }
  }
  connection.close();
  finish(0);
};
connection.onclose = (reason, details) => {
  if (!output.joined) {
    output.join_error = [details && details.reason, details && details.message, reason].filter(x => x).join(': ');
    finish(0);
  }
  return true;
};
connection.open();
