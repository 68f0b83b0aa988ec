// Starts GraphiQL for shopauth. Kept out of index.html so that the page works
// under the Content-Security-Policy "script-src 'self'" (no inline script).
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint') || '/graphql';

  var authHeaders = JSON.stringify({ Authorization: 'Bearer <paste accessToken here>' }, null, 2);
  // Register, Login and RefreshTokens need no access token. Sending a
  // placeholder one would be answered 401 "Token is not valid.", so those
  // tabs start with no headers.
  var noHeaders = '{}';

  // Shown above the first example; lines fit the editor at 1280 px.
  var steps = [
    '# Welcome to shopauth. One example per tab: run it',
    '# with \u25B6 (or Ctrl-Enter). Variables and Headers',
    '# are below the editor.',
    '#',
    '# 1. Register: creates a customer and logs in,',
    '#    returns accessToken and refreshToken.',
    '# 2. Login: the same customer logs in again.',
    '# 3. CurrentCustomer: put the accessToken in its',
    '#    Headers: {"Authorization": "Bearer <token>"}',
    '# 4. RefreshTokens: put the refreshToken in its',
    '#    Variables; returns a new pair, same session.',
    '# 5. Logout: with the Authorization header; ends',
    '#    the session.',
    '#',
    '# By default an access token lives 1 hour and a',
    '# refresh token 14 days; each refresh token can be',
    '# used once.',
    ''
  ].join('\n');

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  // The CurrentCustomer document: the third example tab, and what a new tab opens with.
  function currentCustomerQuery(step) {
    return [
      '# ' + step + 'Needs an access token: in the Headers tab below,',
      '# replace the placeholder with the accessToken from',
      '# Register, Login or RefreshTokens.',
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
        '# with. Keep accessToken (for the Headers of the',
        '# CurrentCustomer and Logout tabs) and refreshToken',
        '# (for the Variables of the RefreshTokens tab).',
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
      headers: authHeaders
    },
    {
      query: [
        '# 4. Trades a refresh token for a new pair. The one',
        '# sent is used up: keep the new one for next time.',
        'mutation RefreshTokens($input: RefreshTokenInput!) {',
        '  RefreshTokens(input: $input) {',
        '    accessToken',
        '    refreshToken',
        '  }',
        '}',
        ''
      ].join('\n'),
      variables: pretty({ input: { refreshToken: '<paste refreshToken here>' } }),
      headers: noHeaders
    },
    {
      query: [
        '# 5. Ends the session of the access token in the',
        '# Headers tab: its access and refresh tokens stop',
        '# working.',
        'mutation Logout {',
        '  Logout',
        '}',
        ''
      ].join('\n'),
      variables: '',
      headers: authHeaders
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

  var props = {
    fetcher: GraphiQL.createFetcher({ url: endpoint }),
    defaultTabs: tabs,
    // A new tab (the + button) starts with this query and these headers.
    defaultQuery: newTabQuery,
    defaultHeaders: authHeaders,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: true
  };
  if (firstVisit()) {
    props.variables = tabs[0].variables;
    props.headers = tabs[0].headers;
  }

  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
