import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { connect } from './connection';
import { routes } from './routes';
import './styles.css';

const root = createRoot(document.getElementById('root')!);

// Firebase loads beside the first render, not before it: the signup form shows while Auth's code downloads.
connect().catch((error: unknown) =>
  root.render(
    <main className="page narrow">
      <div className="card">
        <h1>Cannot reach the backend</h1>
        <p className="alert error">Loading the Firebase configuration failed: {String(error)}</p>
      </div>
    </main>,
  ),
);

root.render(
  <StrictMode>
    <RouterProvider router={createBrowserRouter(routes)} />
  </StrictMode>,
);
