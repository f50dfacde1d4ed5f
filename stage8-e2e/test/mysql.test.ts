// The stage 8 server on MySQL, as the app account `npm run db:setup` made:
// registration stores the keys, a login with other keys appends a row (the
// account could not UPDATE one), and the newest row is what members get.
import mysql from 'mysql2/promise';
import { generateIdentity } from '../../shared/src/identity-keys';
import { describeWithMysql, mysqlTestUrl } from '../../shared/test/mysql-env';
import { uniqueName } from '../../shared/test/user-store-contract';
import { join, startTestServer, type TestServer } from './harness';

jest.setTimeout(60_000);

describeWithMysql('stage 8 on MySQL', mysqlTestUrl(), (url) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(url);
  });
  afterAll(() => t.close());

  test('keys are appended, never updated; the newest row is the one members are given', async () => {
    const alice = uniqueName('alice');
    const first = await join(t, alice);
    first.login.socket.destroy();
    const newKeys = generateIdentity(alice);
    const again = await join(t, alice, { register: false, identity: newKeys });
    const bob = await join(t, uniqueName('bob'));
    const member = await bob.waitForFrame((f) => f.type === 'member' && f.user === alice);
    expect(member).toMatchObject({ signingKey: newKeys.signingKey.toString('base64') });

    const app = await mysql.createConnection(url);
    const [rows] = await app.execute<mysql.RowDataPacket[]>(
      'SELECT signing_key FROM user_keys WHERE username = ? ORDER BY id',
      [alice],
    );
    await app.end();
    expect(rows.map((r) => (r.signing_key as Buffer).toString('base64'))).toEqual([
      first.identity.signingKey.toString('base64'),
      newKeys.signingKey.toString('base64'),
    ]);
    again.login.socket.destroy();
    bob.login.socket.destroy();
  });
});
