/** The files a single combined KRaft node (broker + controller) on loopback needs. */
export interface BrokerPorts {
  port: number;
  controllerPort: number;
}

/**
 * An extra SASL_SSL listener, as a secured deployment's brokers have: TLS with client
 * certificates required, and PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. PLAIN's users live in the
 * JAAS line; SCRAM's are credentials in the cluster metadata, written when storage is formatted
 * (scramFormatArgs).
 */
export interface SaslSslListener {
  port: number;
  /** PKCS12 key store with the broker's key and certificate, and trust store with the CA that signs clients. */
  keystore: string;
  truststore: string;
  storePassword: string;
  plainUsers: Record<string, string>;
  scramUsers: { mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }[];
}

export function serverProperties(dataDir: string, ports: BrokerPorts, saslSsl?: SaslSslListener): string {
  const host = '127.0.0.1';
  const extra = saslSsl ? `,SASL_SSL://${host}:${saslSsl.port}` : '';
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${host}:${ports.controllerPort}`,
    `listeners=PLAINTEXT://${host}:${ports.port},CONTROLLER://${host}:${ports.controllerPort}${extra}`,
    `advertised.listeners=PLAINTEXT://${host}:${ports.port},CONTROLLER://${host}:${ports.controllerPort}${extra}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${saslSsl ? ',SASL_SSL:SASL_SSL' : ''}`,
    ...(saslSsl ? saslSslProperties(saslSsl) : []),
    `log.dirs=${dataDir}`,
    // Topics are created by the project with their partition counts, never by a typo.
    'auto.create.topics.enable=false',
    'num.partitions=6',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

const jaasQuote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

function saslSslProperties(l: SaslSslListener): string[] {
  const plainUsers = Object.entries(l.plainUsers).map(([user, password]) => ` user_${user}=${jaasQuote(password)}`).join('');
  const prefix = 'listener.name.sasl_ssl.';
  return [
    `${prefix}sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512`,
    `${prefix}plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required${plainUsers};`,
    `${prefix}scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `${prefix}scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `${prefix}ssl.keystore.type=PKCS12`,
    `${prefix}ssl.keystore.location=${l.keystore}`,
    `${prefix}ssl.keystore.password=${l.storePassword}`,
    `${prefix}ssl.key.password=${l.storePassword}`,
    `${prefix}ssl.truststore.type=PKCS12`,
    `${prefix}ssl.truststore.location=${l.truststore}`,
    `${prefix}ssl.truststore.password=${l.storePassword}`,
    `${prefix}ssl.client.auth=required`,
  ];
}

/** StorageTool format's arguments that create the listener's SCRAM users. */
export function scramFormatArgs(l: SaslSslListener | undefined): string[] {
  return (l?.scramUsers ?? []).flatMap((u) => ['--add-scram', `${u.mechanism}=[name=${u.username},password=${u.password}]`]);
}

export function log4jProperties(logFile: string): string {
  return [
    'status = error',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = file',
    'logger.kafka.name = kafka',
    'logger.kafka.level = info',
    'logger.apache.name = org.apache.kafka',
    'logger.apache.level = warn',
    '',
  ].join('\n');
}
