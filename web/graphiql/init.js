// Starts GraphiQL for shopauth. Kept out of index.html so that the page works
// under the Content-Security-Policy "script-src 'self'" (no inline script).
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint') || '/graphql';

  var session = ShopauthSession.createSession({ endpoint: endpoint, storage: window.sessionStorage });

  // The tabs send no headers: the page adds the session's access token (see
  // session.js). A tab whose Headers set Authorization sends that instead.
  var noHeaders = '{}';

  // Shown above the first example; lines fit the editor at 1280 px.
  var steps = [
    '# Welcome to shopauth. One example per tab: run it',
    '# with \u25B6 (or Ctrl-Enter). Variables and Headers',
    '# are below the editor.',
    '#',
    '# 1. Register: creates a customer and logs in. The',
    '#    page keeps the returned tokens for this browser',
    '#    tab: top right shows who is logged in, how long',
    '#    the access token has left, and Log out.',
    '# 2. Login: the same customer logs in again.',
    '# 3. CurrentCustomer: runs as the logged-in customer',
    '#    (the page sends the access token itself).',
    '# 4. RefreshTokens: trades the refresh token for a',
    '#    new pair; the page also does it by itself when',
    '#    the access token has expired.',
    '# 5. Logout: ends the session (like Log out).',
    '#',
    '# By default an access token lives 1 hour and a',
    '# refresh token 14 days; each refresh token can be',
    '# used once. To send your own token instead, set',
    '# {"Authorization": "Bearer ..."} in a tab\'s',
    '# Headers: that tab\'s header wins.',
    ''
  ].join('\n');

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  // The CurrentCustomer document: the third example tab, and what a new tab opens with.
  function currentCustomerQuery(step) {
    return [
      '# ' + step + 'Runs as the customer logged in on this page',
      '# (top right); anonymous before Register or Login.',
      'query CurrentCustomer {',
      '  currentCustomerUser {',
      '    uuid',
      '    firstName',
      '    lastName',
      '    email',
      '    telephone',
      '  }',
      '}',
      ''
    ].join('\n');
  }

  var tabs = [
    {
      query: steps + [
        'mutation Register($input: RegistrationDataInput!) {',
        '  Register(input: $input) {',
        '    accessToken',
        '    refreshToken',
        '  }',
        '}',
        ''
      ].join('\n'),
      variables: pretty({
        input: {
          firstName: 'Jane',
          lastName: 'Doe',
          email: 'jane.doe@example.com',
          password: 'correct horse battery staple',
          telephone: '+420123456789'
        }
      }),
      headers: noHeaders
    },
    {
      query: [
        '# 2. Log in with the email and password you registered',
        '# with. The page keeps the new tokens, as after Register.',
        'mutation Login($input: LoginInput!) {',
        '  Login(input: $input) {',
        '    accessToken',
        '    refreshToken',
        '  }',
        '}',
        ''
      ].join('\n'),
      variables: pretty({
        input: { email: 'jane.doe@example.com', password: 'correct horse battery staple' }
      }),
      headers: noHeaders
    },
    {
      query: currentCustomerQuery('3. '),
      variables: '',
      headers: noHeaders
    },
    {
      query: [
        '# 4. Trades a refresh token for a new pair. An empty',
        '# refreshToken is filled in with the page\'s one; the',
        '# page keeps the new pair (the one sent is used up).',
        'mutation RefreshTokens($input: RefreshTokenInput!) {',
        '  RefreshTokens(input: $input) {',
        '    accessToken',
        '    refreshToken',
        '  }',
        '}',
        ''
      ].join('\n'),
      variables: pretty({ input: { refreshToken: '' } }),
      headers: noHeaders
    },
    {
      query: [
        '# 5. Ends the page\'s session: its access and refresh',
        '# tokens stop working and the page forgets them.',
        'mutation Logout {',
        '  Logout',
        '}',
        ''
      ].join('\n'),
      variables: '',
      headers: noHeaders
    }
  ];

  var newTabQuery = currentCustomerQuery('');

  // GraphiQL 4 fills the editors of the first tab from the query of
  // defaultTabs[0] but takes its variables and headers from the variables and
  // headers props. Pass them on a first visit only: later visits restore every
  // tab from the browser's storage, which those props would override.
  function firstVisit() {
    try {
      return !window.localStorage.getItem('graphiql:tabState');
    } catch (e) {
      return true;
    }
  }

  var h = React.createElement;

  function clock(ms) {
    var d = new Date(ms);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map(function (n) {
      return (n < 10 ? '0' : '') + n;
    }).join(':');
  }

  // SessionBar shows the page's session where GraphiQL puts its logo: the
  // last thing the session did, who is logged in (the access token's email
  // claim), how long the access token has left, and Log out.
  function SessionBar() {
    var setTick = React.useState(0)[1];
    React.useEffect(function () {
      function tick() {
        setTick(function (n) { return n + 1; });
      }
      var unsubscribe = session.subscribe(tick);
      var timer = window.setInterval(tick, 1000);
      return function () {
        unsubscribe();
        window.clearInterval(timer);
      };
    }, []);
    var st = session.state();
    var parts = [];
    if (st.notice) {
      parts.push(h('span', {
        key: 'notice',
        role: 'status',
        className: 'shopauth-session-notice shopauth-session-notice-' + st.notice.kind,
        title: st.notice.text
      }, clock(st.notice.at) + ' ' + st.notice.text));
    }
    if (st.loggedIn) {
      parts.push(h('span', { key: 'user', className: 'shopauth-session-user', title: 'the email claim of the access token' },
        st.email || '(no email claim)'));
      parts.push(h('span', {
        key: 'ttl',
        className: 'shopauth-session-ttl',
        title: 'An expired access token is refreshed on the next request.'
      }, st.exp === null ? 'no exp claim' : 'access token ' + ShopauthSession.timeLeft(st.exp, Date.now())));
      parts.push(h('button', {
        key: 'logout',
        type: 'button',
        className: 'graphiql-button shopauth-logout',
        onClick: function () { session.logout(); }
      }, 'Log out'));
    } else {
      parts.push(h('span', { key: 'anonymous', className: 'shopauth-session-anonymous' }, 'Not logged in'));
    }
    return h('div', { className: 'shopauth-session' }, parts);
  }

  var props = {
    fetcher: session.fetcher,
    defaultTabs: tabs,
    // A new tab (the + button) starts with this query and these headers.
    defaultQuery: newTabQuery,
    defaultHeaders: noHeaders,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: true
  };
  if (firstVisit()) {
    props.variables = tabs[0].variables;
    props.headers = tabs[0].headers;
  }

  ReactDOM.createRoot(root).render(h(GraphiQL, props, h(GraphiQL.Logo, null, h(SessionBar))));
})();
