// The login session kept by shopauth's GraphiQL page, so that exploring the
// authenticated API needs no copied tokens. init.js passes session.fetcher to
// GraphiQL and shows the session in the top bar; this file holds no React.
//
// - Any response whose data holds an object with both accessToken and
//   refreshToken (Register, Login, RefreshTokens, RecoverPassword,
//   LoginWithPasskey, under any alias) becomes the page's session, kept in
//   sessionStorage (this browser tab only, survives a reload).
// - Every request then carries "Authorization: Bearer <accessToken>", unless
//   the GraphiQL tab's own headers set Authorization or X-Auth-Token: then the
//   tab wins and the page leaves the request alone.
// - A 401 invalid-token to a request the page authorised triggers one
//   RefreshTokens (shared by requests failing together) and one retry. If the
//   server refuses the refresh, the page forgets the pair, says so, and sends
//   the request once more without a token.
// - A refreshToken variable left as "" is filled with the session's one, so
//   the RefreshTokens example tab needs nothing pasted.
//
// Only the access token's payload is read (email and exp, for display); the
// page never checks signatures or reads the refresh token: the server does.
(function (global) {
  'use strict';

  var STORAGE_KEY = 'shopauth:session';
  // What the example tabs' Headers held before the page kept a session; a tab
  // restored from an older visit may still hold it, and it must not win.
  var OLD_PLACEHOLDER = 'Bearer <paste accessToken here>';
  var REFRESH_QUERY =
    'mutation RefreshTokens($input: RefreshTokenInput!) {\n' +
    '  RefreshTokens(input: $input) {\n    accessToken\n    refreshToken\n  }\n}';
  var LOGOUT_QUERY = 'mutation Logout {\n  Logout\n}';

  // decodeClaims returns the JSON payload of a compact JWS, or null.
  function decodeClaims(token) {
    if (typeof token !== 'string') return null;
    var parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      var b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      while (b64.length % 4 !== 0) b64 += '=';
      var bin = global.atob(b64);
      var bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      var claims = JSON.parse(new global.TextDecoder().decode(bytes));
      return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
    } catch (e) {
      return null;
    }
  }

  // findTokenPair walks a response's data and returns the last object that
  // carries both tokens, with the top-level response key (alias) it was under.
  function findTokenPair(data) {
    var found = null;
    function walk(value, field) {
      if (Array.isArray(value)) {
        for (var i = 0; i < value.length; i++) walk(value[i], field);
        return;
      }
      if (value === null || typeof value !== 'object') return;
      if (typeof value.accessToken === 'string' && typeof value.refreshToken === 'string' &&
          value.accessToken !== '' && value.refreshToken !== '') {
        found = { accessToken: value.accessToken, refreshToken: value.refreshToken, field: field };
      }
      for (var key in value) {
        if (Object.prototype.hasOwnProperty.call(value, key)) walk(value[key], field === null ? key : field);
      }
    }
    walk(data, null);
    return found;
  }

  // tabAuthorization returns the tab's own credentials header, or null.
  function tabAuthorization(headers) {
    if (!headers || typeof headers !== 'object') return null;
    for (var key in headers) {
      if (!Object.prototype.hasOwnProperty.call(headers, key)) continue;
      var name = key.toLowerCase();
      if ((name === 'authorization' || name === 'x-auth-token') && headers[key] !== OLD_PLACEHOLDER) {
        return { name: key, value: String(headers[key]) };
      }
    }
    return null;
  }

  // withoutOldPlaceholder drops the old "paste here" Authorization header.
  function withoutOldPlaceholder(headers) {
    var out = {};
    if (!headers || typeof headers !== 'object') return out;
    for (var key in headers) {
      if (!Object.prototype.hasOwnProperty.call(headers, key)) continue;
      if (key.toLowerCase() === 'authorization' && headers[key] === OLD_PLACEHOLDER) continue;
      out[key] = headers[key];
    }
    return out;
  }

  // fillRefreshToken returns variables with every refreshToken that is ""
  // replaced by token.
  function fillRefreshToken(variables, token) {
    if (!token || variables === null || typeof variables !== 'object') return variables;
    if (Array.isArray(variables)) {
      return variables.map(function (v) { return fillRefreshToken(v, token); });
    }
    var out = {};
    for (var key in variables) {
      if (!Object.prototype.hasOwnProperty.call(variables, key)) continue;
      var v = variables[key];
      out[key] = key === 'refreshToken' && v === '' ? token : fillRefreshToken(v, token);
    }
    return out;
  }

  // loggedOut reports whether the response answers a Logout mutation (under
  // any alias) with true.
  function loggedOut(documentAST, operationName, data) {
    if (!documentAST || !Array.isArray(documentAST.definitions) || !data || typeof data !== 'object') return false;
    var ops = documentAST.definitions.filter(function (d) { return d.kind === 'OperationDefinition'; });
    var op = ops.length === 1 ? ops[0] : ops.filter(function (d) {
      return d.name && d.name.value === operationName;
    })[0];
    if (!op || op.operation !== 'mutation' || !op.selectionSet) return false;
    return op.selectionSet.selections.some(function (s) {
      if (s.kind !== 'Field' || s.name.value !== 'Logout') return false;
      return data[s.alias ? s.alias.value : s.name.value] === true;
    });
  }

  function isInvalidToken(res) {
    if (res.status !== 401 || !res.json || !Array.isArray(res.json.errors)) return false;
    return res.json.errors.some(function (e) {
      return e && e.extensions && e.extensions.userCode === 'invalid-token';
    });
  }

  function firstErrorMessage(res) {
    var errs = res.json && res.json.errors;
    if (Array.isArray(errs) && errs[0] && typeof errs[0].message === 'string') return errs[0].message;
    return 'HTTP ' + res.status;
  }

  // createSession returns the page's session. options: endpoint (URL of
  // POST /graphql), and for tests fetch, storage and now (milliseconds).
  function createSession(options) {
    var endpoint = options.endpoint;
    var fetchFn = options.fetch || global.fetch.bind(global);
    var storage = options.storage;
    var now = options.now || function () { return Date.now(); };
    var listeners = [];
    var pair = load();
    var notice = null; // { text, kind: 'info' | 'error', at }
    var refreshing = null; // the refresh in flight, shared by every request waiting on it

    function load() {
      try {
        var p = JSON.parse(storage.getItem(STORAGE_KEY));
        if (p && typeof p.accessToken === 'string' && typeof p.refreshToken === 'string') {
          return { accessToken: p.accessToken, refreshToken: p.refreshToken };
        }
      } catch (e) { /* no storage or a bad value: no session */ }
      return null;
    }

    function save() {
      try {
        if (pair) storage.setItem(STORAGE_KEY, JSON.stringify(pair));
        else storage.removeItem(STORAGE_KEY);
      } catch (e) { /* storage refused: the session lives until the page closes */ }
    }

    function changed() {
      listeners.slice().forEach(function (fn) { fn(); });
    }

    function say(text, kind) {
      notice = { text: text, kind: kind || 'info', at: now() };
    }

    function keep(p, text) {
      pair = { accessToken: p.accessToken, refreshToken: p.refreshToken };
      save();
      say(text);
      changed();
    }

    function forget(text, kind) {
      pair = null;
      save();
      say(text, kind);
      changed();
    }

    function post(body, headers) {
      var all = { 'Content-Type': 'application/json', Accept: 'application/json' };
      for (var key in headers) {
        if (!Object.prototype.hasOwnProperty.call(headers, key)) continue;
        for (var k in all) if (k.toLowerCase() === key.toLowerCase()) delete all[k];
        all[key] = headers[key];
      }
      return fetchFn(endpoint, {
        method: 'POST',
        headers: all,
        body: JSON.stringify(body),
        credentials: 'same-origin'
      }).then(function (res) {
        return res.text().then(function (text) {
          var json = null;
          try { json = JSON.parse(text); } catch (e) { /* not JSON: reported below */ }
          return { status: res.status, json: json, text: text };
        });
      });
    }

    // refresh trades the refresh token for a new pair, once for every request
    // that failed with usedToken. It resolves to true when there is a new pair.
    function refresh(usedToken) {
      if (!pair) return Promise.resolve(false);
      if (pair.accessToken !== usedToken) return Promise.resolve(true); // already refreshed meanwhile
      if (refreshing) return refreshing;
      var presented = pair.refreshToken;
      refreshing = post({
        query: REFRESH_QUERY,
        variables: { input: { refreshToken: presented } },
        operationName: 'RefreshTokens'
      }, {}).then(function (res) {
        var p = res.json && res.json.data && res.json.data.RefreshTokens;
        if (res.status === 200 && p && typeof p.accessToken === 'string' && typeof p.refreshToken === 'string') {
          keep(p, 'Refreshed the expired access token.');
          return true;
        }
        if (pair && pair.refreshToken === presented) {
          forget('Refresh failed (' + firstErrorMessage(res) + '): logged out.', 'error');
        }
        return false;
      }, function (err) {
        // The server never answered: the refresh token may still be good, keep it.
        say('Could not refresh the session: ' + (err && err.message ? err.message : String(err)), 'error');
        changed();
        return false;
      }).then(function (ok) {
        refreshing = null;
        return ok;
      });
      return refreshing;
    }

    // send posts params with the tab's headers and the session's token,
    // refreshing and retrying once on a 401 invalid-token.
    function send(params, tabHeaders, documentAST, retried) {
      var own = tabAuthorization(tabHeaders);
      var headers = withoutOldPlaceholder(tabHeaders);
      var token = null;
      if (own) {
        token = own.value.replace(/^Bearer /, '');
      } else if (pair) {
        token = pair.accessToken;
        headers.Authorization = 'Bearer ' + token;
      }
      var body = {
        query: params.query,
        variables: fillRefreshToken(params.variables, pair && pair.refreshToken),
        operationName: params.operationName
      };
      return post(body, headers).then(function (res) {
        if (!own && token !== null && !retried && isInvalidToken(res)) {
          return refresh(token).then(function () {
            // With a new pair the retry carries it; after a refused refresh
            // the pair is gone and the retry is anonymous.
            return send(params, tabHeaders, documentAST, true);
          });
        }
        if (res.json === null) {
          throw new Error('HTTP ' + res.status + ' with a body that is not JSON: ' + res.text.slice(0, 200));
        }
        var data = res.json.data;
        var found = findTokenPair(data);
        if (found) {
          keep(found, 'Logged in (' + found.field + ').');
        } else if (pair && token === pair.accessToken && loggedOut(documentAST, params.operationName, data)) {
          forget('Logged out.');
        }
        return res.json;
      });
    }

    return {
      // fetcher is GraphiQL's fetcher: (params, { headers, documentAST }).
      fetcher: function (params, opts) {
        return send(params || {}, (opts && opts.headers) || {}, opts && opts.documentAST, false);
      },

      // logout calls Logout with the session's token and forgets the pair,
      // whatever the server says (the button promises a logged-out page).
      logout: function () {
        if (!pair) return Promise.resolve(false);
        var params = { query: LOGOUT_QUERY, operationName: 'Logout' };
        return send(params, {}, null, false).then(function (json) {
          var ok = json && json.data && json.data.Logout === true;
          if (ok) forget('Logged out.');
          else forget('Logout answered ' + firstErrorMessage({ json: json, status: 200 }) +
            '; forgot the tokens anyway.', 'error');
          return ok;
        }, function (err) {
          forget('Logout failed (' + (err && err.message ? err.message : String(err)) +
            '); forgot the tokens anyway.', 'error');
          return false;
        });
      },

      // state is what the top bar shows.
      state: function () {
        var claims = pair ? decodeClaims(pair.accessToken) : null;
        return {
          loggedIn: pair !== null,
          email: claims && typeof claims.email === 'string' ? claims.email : null,
          exp: claims && typeof claims.exp === 'number' ? claims.exp : null,
          notice: notice
        };
      },

      subscribe: function (fn) {
        listeners.push(fn);
        return function () {
          listeners = listeners.filter(function (l) { return l !== fn; });
        };
      }
    };
  }

  // timeLeft formats the seconds until exp (a JWT NumericDate) at nowMs.
  function timeLeft(exp, nowMs) {
    var s = Math.ceil(exp - nowMs / 1000); // the server refuses a token at exp
    if (s <= 0) return 'expired';
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return (h > 0 ? h + ':' + pad(m) : String(m)) + ':' + pad(sec) + ' left';
  }

  global.ShopauthSession = {
    createSession: createSession,
    decodeClaims: decodeClaims,
    findTokenPair: findTokenPair,
    timeLeft: timeLeft,
    STORAGE_KEY: STORAGE_KEY
  };
})(this);
