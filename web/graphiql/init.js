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

  var steps = [
    '# Welcome to shopauth. Each tab holds one example operation; run it with',
    '# the \u25B6 button (or Ctrl-Enter). Variables and Headers are below the editor.',
    '#',
    '#   1. Register        creates a customer and logs in: returns accessToken and refreshToken',
    '#   2. Login           the same customer logs in again (a new session)',
    '#   3. CurrentCustomer paste the accessToken into the Headers tab:',
    '#                      {"Authorization": "Bearer <accessToken>"}',
    '#   4. RefreshTokens   paste the refreshToken into Variables: a new pair, same session',
    '#   5. Logout          with the Authorization header: ends the session',
    '#',
    '# An access token lives 1 hour, a refresh token 14 days; each refresh token',
    '# can be used once.',
    ''
  ].join('\n');

  function pretty(value) {
    return JSON.stringify(value, null, 2);
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
        '# 2. Log in with the email and password you registered with.',
        '# Copy accessToken (for the Headers tab) and refreshToken (for RefreshTokens).',
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
      query: [
        '# 3. Needs an access token: replace the placeholder in the Headers tab',
        '# below with the accessToken from Register or Login.',
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
      ].join('\n'),
      variables: '',
      headers: authHeaders
    },
    {
      query: [
        '# 4. Trade a refresh token for a new pair. The old refresh token is used up;',
        '# keep the new one for the next refresh.',
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
        '# 5. Ends the session of the access token in the Headers tab. After this',
        '# its access and refresh tokens are no longer accepted.',
        'mutation Logout {',
        '  Logout',
        '}',
        ''
      ].join('\n'),
      variables: '',
      headers: authHeaders
    }
  ];

  var newTabQuery = [
    '# Authenticated queries need "Authorization: Bearer <accessToken>" in the',
    '# Headers tab below; take the accessToken from Register, Login or RefreshTokens.',
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

  var fetcher = GraphiQL.createFetcher({ url: endpoint });

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: tabs,
      // A new tab (the + button) starts with this query and these headers.
      defaultQuery: newTabQuery,
      defaultHeaders: authHeaders,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: true
    })
  );
})();
