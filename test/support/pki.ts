import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  /** The CA's certificate, PEM, for Node clients (KAFKA_SSL_CA_FILE, CLICKHOUSE_CA_FILE). */
  caPem: string;
  /** PKCS12 stores for a Java server: its key and certificate, and the CA it trusts for clients. */
  serverKeystore: string;
  truststore: string;
  storePassword: string;
  /** The server's key and certificate (SAN IP 127.0.0.1) as PEM, for a Node TLS server. */
  serverCertPem: string;
  serverKeyPem: string;
  /** A client certificate signed by the CA, and its key encrypted with clientKeyPassphrase. */
  clientCertPem: string;
  clientKeyPem: string;
  clientKeyPassphrase: string;
  /** A self-signed client certificate the server does not trust, and its key unencrypted. */
  strangerCertPem: string;
  strangerKeyPem: string;
}

/**
 * A throw-away PKI made with the JDK's keytool, as an operator would make one for Kafka: a CA,
 * a server key store and trust store, and client certificates. openssl only unwraps the
 * PKCS12 keys into the PEM files Node reads (keytool cannot write a private key out).
 */
export function makeTestPki(dir: string): TestPki {
  const storePassword = 'store-secret-1';
  const clientKeyPassphrase = 'client-key-secret-1';
  // keytool is a JVM per call: a quick-starting one (C1 only, serial GC) halves each call on a busy machine.
  const jvm = ['-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC'];
  const keytool = (...args: string[]) => execFileSync('keytool', [...jvm, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  // EC keys: generating RSA ones is most of keytool's time.
  const keyAlg = ['-keyalg', 'EC', '-groupname', 'secp256r1'];
  const store = (name: string) => ['-keystore', join(dir, name), '-storetype', 'PKCS12', '-storepass', storePassword];
  const path = (name: string) => join(dir, name);

  const ca = (name: string) => {
    keytool('-genkeypair', '-alias', 'ca', '-dname', `CN=${name}`, ...keyAlg, '-validity', '2', '-ext', 'bc:c', ...store(`${name}.p12`));
    keytool('-exportcert', '-rfc', '-alias', 'ca', ...store(`${name}.p12`), '-file', path(`${name}.pem`));
  };
  /**
   * A key pair in its own PKCS12 store and a certificate the CA signed (PEM, returned). Only a
   * Java server needs the signed chain in its store; a Node client reads the PEM files.
   */
  const issue = (name: string, extensions: string[], options: { chainInStore: boolean }) => {
    keytool('-genkeypair', '-alias', name, '-dname', `CN=${name}`, ...keyAlg, '-validity', '2', ...store(`${name}.p12`));
    keytool('-certreq', '-alias', name, ...store(`${name}.p12`), '-file', path(`${name}.csr`));
    keytool('-gencert', '-rfc', '-alias', 'ca', ...store('ca.p12'), '-infile', path(`${name}.csr`), '-outfile', path(`${name}.crt`), '-validity', '2', ...extensions.flatMap((e) => ['-ext', e]));
    if (options.chainInStore) {
      keytool('-importcert', '-noprompt', '-alias', 'ca', '-file', path('ca.pem'), ...store(`${name}.p12`));
      keytool('-importcert', '-noprompt', '-alias', name, '-file', path(`${name}.crt`), ...store(`${name}.p12`));
    }
    return readFileSync(path(`${name}.crt`), 'utf8');
  };
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
  const pemKey = (name: string, passphrase?: string) =>
    openssl('pkcs12', '-in', path(`${name}.p12`), '-nocerts', '-passin', `pass:${storePassword}`, ...(passphrase ? ['-passout', `pass:${passphrase}`] : ['-nodes']));

  ca('ca');
  keytool('-importcert', '-noprompt', '-alias', 'ca', '-file', path('ca.pem'), ...store('truststore.p12'));
  const serverCertPem = issue('server', ['san=ip:127.0.0.1', 'eku=serverAuth'], { chainInStore: true });
  const clientCertPem = issue('client', ['eku=clientAuth'], { chainInStore: false });
  // Self-signed: a client certificate no trusted CA vouches for.
  keytool('-genkeypair', '-alias', 'stranger', '-dname', 'CN=stranger', ...keyAlg, '-validity', '2', ...store('stranger.p12'));
  const strangerCertPem = openssl('pkcs12', '-in', path('stranger.p12'), '-clcerts', '-nokeys', '-passin', `pass:${storePassword}`);
  return {
    caPem: readFileSync(path('ca.pem'), 'utf8'),
    serverKeystore: path('server.p12'),
    truststore: path('truststore.p12'),
    storePassword,
    serverCertPem,
    serverKeyPem: pemKey('server'),
    clientCertPem,
    clientKeyPem: pemKey('client', clientKeyPassphrase),
    clientKeyPassphrase,
    strangerCertPem,
    strangerKeyPem: pemKey('stranger'),
  };
}
